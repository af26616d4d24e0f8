export { startSandbox } from "./server.js";
export type { FaultKind, FaultOptions, Sandbox, SandboxOptions, SandboxStats } from "./server.js";
export type { RegisteredApiKey, StoredDistributionKey } from "./state.js";
export { allowedClockSkewSeconds } from "./auth.js";
