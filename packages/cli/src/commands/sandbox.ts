import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { describeErrno, errnoOf, localError, shown, usageError } from "../report.js";
import { registerSandboxControls } from "./sandbox-controls.js";
import { untilStopped } from "./shared.js";

/** `asc-kit sandbox`: a local App Store Connect until SIGINT or SIGTERM. */
export function registerSandbox(program: Command, context: Context): void {
  const sandboxCommand = program
    .command("sandbox")
    .description(
      "run a local App Store Connect sandbox; prints its URL and credentials when ready. The commands below act out, on a running sandbox, what Apple does on its own time",
    )
    .option("--port <n>", "port to listen on (0: any free port)", "0")
    .option("--data <file>", "keep state in this file")
    .option("--env", "print shell export lines for the ASC_* variables instead of JSON")
    .action(async (options: { port: string; data?: string; env?: boolean }) => {
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port) || port > 65535)
        throw usageError(
          `--port must be a port number from 0 to 65535, not ${shown(options.port)}.`,
        );
      const sandbox = await start(port, options.data);
      context.io.stdout(
        options.env
          ? exportLines(sandbox)
          : `${JSON.stringify({ url: sandbox.url, ...sandbox.credentials })}\n`,
      );
      await untilStopped(() => sandbox.stop());
    });
  registerSandboxControls(sandboxCommand, context);
}

async function start(port: number, dataFile: string | undefined): Promise<Sandbox> {
  try {
    return await startSandbox({ port, ...(dataFile ? { dataFile } : {}) });
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === "EADDRINUSE") {
      throw localError(
        `Port ${port} is in use: choose another --port, or 0 for any free port.`,
        errno,
      );
    }
    if (errno) {
      throw localError(
        `Cannot start the sandbox${dataFile ? ` with the data file ${shown(dataFile)}` : ""}: ${describeErrno(errno)}.`,
        errno,
      );
    }
    // The sandbox's own messages (a data file that is not valid JSON) are plain already.
    if (error instanceof Error && dataFile) throw localError(error.message, "SANDBOX_DATA");
    throw error;
  }
}

/** Lines for a POSIX shell to eval: `export NAME='value'`, values single-quoted. */
export function exportLines(sandbox: Pick<Sandbox, "url" | "credentials">): string {
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  const variables: [string, string][] = [
    ["ASC_BASE_URL", sandbox.url],
    ["ASC_KEY_ID", sandbox.credentials.keyId],
    ["ASC_ISSUER_ID", sandbox.credentials.issuerId],
    ["ASC_PRIVATE_KEY", sandbox.credentials.privateKey],
  ];
  // A key file in the environment as well would be "not both": the sandbox's key replaces it.
  return `unset ASC_PRIVATE_KEY_PATH\n${variables.map(([name, value]) => `export ${name}=${quote(value)}\n`).join("")}`;
}
