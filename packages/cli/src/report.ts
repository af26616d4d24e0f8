import { InvalidTokenError, PackageError } from "@asc-kit/core";
import { DownloadError } from "@asc-kit/download";
import { AppStoreConnectError, redact } from "@asc-kit/errors";
import { InstallTokenError } from "@asc-kit/install-token";
import { PemError } from "@asc-kit/pem";
import type { Command, CommanderError } from "commander";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { json, palette } from "./output.js";
import type { Io } from "./output.js";

/** A failure that has already been explained to the user; carries the exit code. */
export class Exit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** A failure the CLI itself found: its message is safe to print, `code` is stable for scripts. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Exit code 2: the command line itself was wrong. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, ExitCode.usage, "USAGE", hint);
}

/** Exit code 1: a local check or a local file failed. */
export function localError(message: string, code = "LOCAL", hint?: string): CliError {
  return new CliError(message, ExitCode.localValidation, code, hint);
}

/**
 * Whether a value given as a file name, an argument or an option looks like key material or a
 * token rather than what was asked for: such a value is never printed back.
 */
export function looksLikeSecret(value: string): boolean {
  return (
    /[\r\n]/.test(value) ||
    value.includes("-----") ||
    value.includes("\\n") ||
    /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/.test(value) ||
    [...value.matchAll(base64Run)].some(([run]) => slashesIn(run) * 16 <= run.length)
  );
}

/**
 * A run of base64 as a key's DER is written in it (it begins "MI" or "MH"). A folder's name can
 * start so too ("/Users/MIKE/Documents/Keys/AuthKey"): base64 has a slash in 64 characters,
 * where a path has one every few, so only a run with few slashes is taken for a key.
 */
const base64Run = /M[IH][A-Za-z0-9+/=]{30,}/g;
const slashesIn = (run: string) => run.split("/").length - 1;

/** A value quoted for a message: a secret-looking one is described, a long one shortened. */
export function shown(value: string): string {
  if (looksLikeSecret(value)) return "(a value that looks like a key or a token, not shown)";
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}

const plainErrno: Record<string, string> = {
  ENOENT: "no such file or folder",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  EEXIST: "it exists already",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the name is too long",
  EADDRINUSE: "the port is in use",
  EADDRNOTAVAIL: "the address is not available on this machine",
};

/** The errno code of a Node.js system error, if it is one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code)
    ? code
    : undefined;
}

/** A system error in words, without the temporary names and paths of its own message. */
export function describeErrno(code: string): string {
  return plainErrno[code] ?? `system error ${code}`;
}

/** The command's own name, as typed: `keys add`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

/**
 * Commander's own errors (unknown option, missing argument, …) in the CLI's words: a value that
 * looks like key material is described rather than repeated, and the hint names the help of the
 * command that failed.
 */
export function fromCommanderError(error: CommanderError, command: Command): CliError {
  let secret = false;
  const missing = everythingMissing(error, command);
  const message = (missing ?? error.message)
    .replace(/^error: /, "")
    .replace(/'([^']*)'/g, (quoted, inner: string) => {
      if (!looksLikeSecret(inner)) return inner.length > 120 ? shown(inner) : quoted;
      secret = true;
      return "(a value that looks like a key, not shown)";
    });
  const path = commandPath(command);
  const hint = secret
    ? "A key was passed where a file name or an option was expected. Give the key's file name, or - and the key on standard input; in the environment, use ASC_PRIVATE_KEY."
    : `Run 'asc-kit${path ? ` ${path}` : ""} --help' for usage.`;
  return usageError(redact(message), hint);
}

/**
 * For a missing option or argument, all of them at once: Commander stops at the first, and a
 * user would go round once per value.
 */
function everythingMissing(error: CommanderError, command: Command): string | undefined {
  if (
    error.code !== "commander.missingMandatoryOptionValue" &&
    error.code !== "commander.missingArgument"
  ) {
    return undefined;
  }
  const options = command.options
    .filter(
      (option) => option.mandatory && command.getOptionValue(option.attributeName()) === undefined,
    )
    .map((option) => `option '${option.flags}'`);
  const given = command.args.length;
  const args = command.registeredArguments
    .filter((argument, index) => argument.required && index >= given)
    .map((argument) => `argument '${argument.name()}'`);
  const all = [...args, ...options];
  if (all.length < 2) return undefined;
  return `missing required ${all.slice(0, -1).join(", ")} and ${all.at(-1)}`;
}

interface Described {
  exitCode: number;
  code: string;
  message: string;
  hint?: string | undefined;
}

/** A download's failure by where it lies: the folder here, or the server and the network. */
const downloadExitCode: Record<DownloadError["code"], number> = {
  ERR_LAYOUT: ExitCode.localValidation,
  ERR_DOWNLOAD_ZIP: ExitCode.localValidation,
  ERR_DOWNLOAD_HTTP: ExitCode.serverOrNetwork,
  ERR_DOWNLOAD_NETWORK: ExitCode.serverOrNetwork,
  ERR_DOWNLOAD_TIMEOUT: ExitCode.serverOrNetwork,
  ERR_DOWNLOAD_PROTOCOL: ExitCode.requestRefused,
  ERR_DOWNLOAD_URL: ExitCode.requestRefused,
};

function describe(error: unknown): Described {
  if (AppStoreConnectError.is(error)) {
    return {
      exitCode: exitCodeFor(error),
      code: error.code,
      message: error.message,
      hint: error.hint,
    };
  }
  if (error instanceof CliError) {
    return { exitCode: error.exitCode, code: error.code, message: error.message, hint: error.hint };
  }
  if (error instanceof PemError || error instanceof InstallTokenError) {
    return { exitCode: ExitCode.localValidation, code: error.code, message: error.message };
  }
  if (error instanceof DownloadError) {
    return { exitCode: downloadExitCode[error.code], code: error.code, message: error.message };
  }
  if (error instanceof PackageError) {
    return { exitCode: ExitCode.localValidation, code: error.code, message: error.message };
  }
  if (error instanceof InvalidTokenError) {
    return { exitCode: ExitCode.localValidation, code: error.code, message: error.message };
  }
  if (error instanceof TypeError) {
    return { exitCode: ExitCode.localValidation, code: "INVALID_ARGUMENT", message: error.message };
  }
  const errno = errnoOf(error);
  if (errno) {
    return {
      exitCode: ExitCode.localValidation,
      code: errno,
      message: `A local file or network operation failed: ${describeErrno(errno)}.`,
    };
  }
  return {
    exitCode: ExitCode.serverOrNetwork,
    code: "UNEXPECTED",
    message: error instanceof Error ? error.message : String(error),
  };
}

/** Prints an error (message and hint, never a secret) and returns its exit code. */
export function report(io: Io, asJson: boolean, error: unknown): number {
  const { exitCode, code, message, hint } = describe(error);
  const safeMessage = redact(message);
  if (asJson) {
    io.stderr(json({ ok: false, code, message: safeMessage, ...(hint ? { hint } : {}) }));
  } else {
    const colors = palette(io);
    io.stderr(
      `${colors.red("error:")} ${safeMessage}\n${hint ? `${colors.dim("hint:")} ${hint}\n` : ""}`,
    );
  }
  return exitCode;
}
