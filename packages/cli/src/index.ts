/**
 * The `asc-kit` command as a function, for scripts and tests that run it in-process.
 *
 * @example
 * ```ts
 * import { run } from "@asc-kit/cli";
 *
 * const code = await run(["keys", "check", "key.pem"], {
 *   stdout: (text) => process.stdout.write(text),
 *   stderr: (text) => process.stderr.write(text),
 *   readStdin: async () => "",
 *   env: process.env,
 *   isTty: false,
 *   confirm: async () => false,
 * });
 * ```
 */
export { run } from "./cli.js";
export { ExitCode } from "./exit-codes.js";
export type { Io } from "./output.js";
