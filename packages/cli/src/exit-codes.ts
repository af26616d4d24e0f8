import type { AppStoreConnectError } from "@asc-kit/errors";

/** The exit codes of `asc-kit`, documented in its README. */
export const ExitCode = {
  ok: 0,
  /** A local check failed: a key that is not what is needed, a file that cannot be read. */
  localValidation: 1,
  /** The command line itself was wrong. */
  usage: 2,
  /** App Store Connect refused the credentials (401) or the operation for this key (403). */
  authentication: 3,
  notFound: 4,
  conflict: 5,
  rateLimited: 6,
  /** A 5xx, or no response at all. */
  serverOrNetwork: 7,
  /** Any other refusal (400, 422, …). */
  requestRefused: 8,
} as const;

export function exitCodeFor(error: AppStoreConnectError): number {
  switch (error.kind) {
    case "unauthorized":
    case "forbidden":
      return ExitCode.authentication;
    case "not-found":
      return ExitCode.notFound;
    case "conflict":
      return ExitCode.conflict;
    case "rate-limited":
      return ExitCode.rateLimited;
    case "server":
    case "network":
      return ExitCode.serverOrNetwork;
    default:
      return ExitCode.requestRefused;
  }
}
