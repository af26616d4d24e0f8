export { DownloadError, downloadPackageVersion } from "./download.js";
export type { DownloadOptions, DownloadResult, DownloadedAsset } from "./download.js";
