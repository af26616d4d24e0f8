export { downloadPackageVersion } from "./download.js";
export type { DownloadOptions, DownloadResult, DownloadedAsset } from "./download.js";
export { DownloadError } from "./errors.js";
export type { DownloadErrorCode } from "./errors.js";
export type { Deadlines } from "./deadlines.js";
export { validatePackageLayout } from "./validate.js";
export type { LayoutFinding, LayoutReport } from "./validate.js";
