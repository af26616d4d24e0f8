/** A download that cannot go on: `code` is stable, the message says what to do. */
export class DownloadError extends Error {
  override readonly name = "DownloadError";
  constructor(
    readonly code: "ERR_DOWNLOAD_HTTP" | "ERR_DOWNLOAD_ZIP" | "ERR_LAYOUT",
    message: string,
  ) {
    super(message);
  }
}
