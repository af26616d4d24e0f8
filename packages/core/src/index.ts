export type { components, operations, paths } from "./generated/app-store-connect.js";
export { authMiddleware, authenticatedFetch } from "./auth.js";
export { createAppStoreConnectClient, defaultBaseUrl } from "./client.js";
export type { AppStoreConnectClient, AppStoreConnectClientOptions } from "./client.js";
export {
  addAlternativeDistributionKey,
  getAlternativeDistributionKey,
  getAppAlternativeDistributionKey,
  listAlternativeDistributionKeys,
  removeAlternativeDistributionKey,
} from "./keys.js";
export type {
  AlternativeDistributionKey,
  AlternativeDistributionKeyResponse,
  Result,
} from "./keys.js";
export {
  addAlternativeDistributionDomain,
  getAlternativeDistributionDomain,
  listAlternativeDistributionDomains,
  normalizeDomainName,
  removeAlternativeDistributionDomain,
} from "./domains.js";
export type {
  AlternativeDistributionDomain,
  AlternativeDistributionDomainResponse,
} from "./domains.js";
export { defaultMaxPages, paginate, paginateItems } from "./paginate.js";
export type { Page, PageInit, PagedPath, PaginateOptions } from "./paginate.js";
export { RequestTimeoutError, createResilientFetch } from "./retry.js";
export type { RequestFetch, ResilientFetch, ResilientFetchOptions, RetryOptions } from "./retry.js";
export {
  InvalidTokenError,
  appStoreConnectAudience,
  createTokenProvider,
  issuedAtBackdateSeconds,
  maximumTokenLifetimeSeconds,
  tokenProviderFrom,
} from "./token.js";
export type { TokenProvider, TokenProviderOptions } from "./token.js";
export { toResult, unwrap } from "./outcome.js";
export {
  createAlternativeDistributionPackage,
  getAlternativeDistributionPackage,
  getAlternativeDistributionPackageDelta,
  getAlternativeDistributionPackageVariant,
  getAlternativeDistributionPackageVersion,
  getAppStoreVersionAlternativeDistributionPackage,
  listAlternativeDistributionPackageVersions,
} from "./packages.js";
export type {
  AlternativeDistributionPackage,
  AlternativeDistributionPackageDelta,
  AlternativeDistributionPackageResponse,
  AlternativeDistributionPackageVariant,
  AlternativeDistributionPackageVersion,
  AlternativeDistributionPackageVersionContents,
} from "./packages.js";
export { PackageError, maxManifestBytes, parsePackageManifest, verifiedAsset } from "./manifest.js";
export type { ChunkHashes, ManifestAsset, PackageManifest } from "./manifest.js";
export {
  alternativeDistributionEventTypes,
  createMarketplaceSearchDetail,
  createWebhook,
  getAppMarketplaceSearchDetail,
  listAppWebhooks,
  listWebhookDeliveries,
  pingWebhook,
  redeliverWebhookDelivery,
  removeMarketplaceSearchDetail,
  removeWebhook,
  updateMarketplaceSearchDetail,
  updateWebhook,
  webhookEventTypes,
} from "./marketplace.js";
export { redeliverFailedDeliveries, undeliveredEvents } from "./redeliver.js";
export type { Redelivery } from "./redeliver.js";
export {
  createMarketplaceWebhook,
  getMarketplaceWebhook,
  removeMarketplaceWebhook,
  updateMarketplaceWebhook,
} from "./marketplace-webhook.js";
export type { MarketplaceWebhook } from "./marketplace-webhook.js";
export type {
  MarketplaceSearchDetailResponse,
  Webhook,
  WebhookDelivery,
  WebhookEventType,
  WebhookResponse,
} from "./marketplace.js";
