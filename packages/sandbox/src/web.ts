/**
 * The sandbox as a Web fetch handler, with no `node:` import: for workers, browsers, Deno, Bun
 * and tests without a port. `@asc-kit/sandbox` adds `startSandbox`, which serves it over HTTP.
 */
export { createSandbox } from "./sandbox.js";
export type {
  CreateSandboxOptions,
  FaultKind,
  FaultOptions,
  SandboxHandler,
  SandboxStats,
} from "./sandbox.js";
export type {
  RegisteredApiKey,
  SandboxData,
  SandboxStorage,
  StoredAppStoreVersion,
  StoredDistributionKey,
  StoredDomain,
  StoredWebhook,
} from "./state.js";
export type { NotificationOptions } from "./notifier.js";
export { allowedClockSkewSeconds } from "./auth.js";
export { simulateInstall, simulateUpdate } from "./device.js";
export type { DeviceOptions, DeviceResult, DeviceStep } from "./device.js";
