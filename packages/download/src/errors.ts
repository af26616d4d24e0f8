/** What a `DownloadError`'s `code` can be: stable, for programs to act on. */
export type DownloadErrorCode =
  /** The server answered a status that is not the asset (after retries for 429 and 5xx). */
  | "ERR_DOWNLOAD_HTTP"
  /** The version's zip is too large, unreadable, or lacks `manifest.json` or `signature`. */
  | "ERR_DOWNLOAD_ZIP"
  /** The output folder is not fit to hold the package (extra or missing files, links). */
  | "ERR_LAYOUT"
  /** The connection failed: refused, reset, closed early, a name that does not resolve, TLS. */
  | "ERR_DOWNLOAD_NETWORK"
  /** The server's answer breaks HTTP/1.1: a head too large, a bad length, bad chunks. */
  | "ERR_DOWNLOAD_PROTOCOL"
  /** A deadline passed: the head took too long, or the body came slower than the minimum rate. */
  | "ERR_DOWNLOAD_TIMEOUT"
  /** A link or redirect not followed: not http(s), https to http, too many redirects. */
  | "ERR_DOWNLOAD_URL";

/** The codes of failures that may pass: the download asks again (resuming) before giving up. */
export const transientCodes: ReadonlySet<DownloadErrorCode> = new Set([
  "ERR_DOWNLOAD_NETWORK",
  "ERR_DOWNLOAD_TIMEOUT",
]);

/**
 * A download that cannot go on: `code` is stable, the message says what happened and what to
 * do, `cause` is the underlying error where there is one (an errno error, a TLS error).
 *
 * @example
 * ```ts
 * import { DownloadError, downloadPackageVersion } from "@asc-kit/download";
 *
 * try {
 *   await downloadPackageVersion(client, "a-version-id", { out: "./package" });
 * } catch (error) {
 *   if (error instanceof DownloadError && error.code === "ERR_DOWNLOAD_TIMEOUT") {
 *     // Run it again later: what was verified is kept, and the next run resumes.
 *   }
 * }
 * ```
 */
export class DownloadError extends Error {
  override readonly name = "DownloadError";
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `error` is a failure worth another attempt. */
export function isTransient(error: unknown): boolean {
  return error instanceof DownloadError && transientCodes.has(error.code);
}

/** A connection failure as a `DownloadError`, naming the host and the errno where there is one. */
export function networkError(host: string, cause: unknown): DownloadError {
  if (cause instanceof DownloadError) return cause;
  // fetch puts the errno one level down: TypeError("fetch failed", { cause: { code } }).
  const errnoOf = (error: unknown) => (error as { code?: unknown } | undefined)?.code;
  const errno = errnoOf(cause) ?? errnoOf((cause as { cause?: unknown } | undefined)?.cause);
  const why = typeof errno === "string" ? errno : ((cause as Error)?.message ?? String(cause));
  return new DownloadError("ERR_DOWNLOAD_NETWORK", `The connection to ${host} failed (${why}).`, {
    cause,
  });
}
