export * from "./web.js";
export { startSandbox } from "./server.js";
export type { Sandbox, SandboxOptions } from "./server.js";
