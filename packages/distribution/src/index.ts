export { accountTokens } from "./account-tokens.js";
export type { AccountTokens } from "./account-tokens.js";
export { deviceUrl, marketplaceKitConfiguration } from "./configuration.js";
export type {
  ConfigurationOptions,
  LicenseUrls,
  MarketplaceKitConfiguration,
} from "./configuration.js";
export { StoreUnavailableError } from "./deadline.js";
export { createDistributionHandler } from "./handler.js";
export type { Authentication, DistributionHandlerOptions, Failure, ServedApp } from "./handler.js";
export { versionRecordOf } from "./layout.js";
export { maxApps, maxBodyBytes } from "./request.js";
export { sqlStore } from "./sql-store.js";
export type { SqlExecutor } from "./sql-store.js";
export type { DistributionStore, StoredVersion, VersionRecord } from "./store.js";
export { compareVersions } from "./versions.js";
export type { Platform } from "./versions.js";
export { installLink } from "./install-link.js";
export type { InstallLinkOptions } from "./install-link.js";
export { createSignInHandler, issueLinkToken } from "./signin.js";
export type { SignInOptions } from "./signin.js";
export type { Grant, GrantKind } from "./store.js";
export { createInstallPageHandler } from "./install-page.js";
export type { InstallPageOptions } from "./install-page.js";
export { buildCatalog, createCatalogHandler, mobileApplication } from "./catalog.js";
export type { CatalogDetails, CatalogFiles, CatalogOptions } from "./catalog.js";
