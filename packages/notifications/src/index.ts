export { NotificationError } from "./errors.js";
export { signNotification, signatureHeader, verifySignature } from "./signature.js";
export { parseNotification } from "./payload.js";
export type {
  AppUnavailable,
  AppVersionsUnavailable,
  MarketplaceNotification,
  PackageAvailableUpdated,
  PackageVersionAvailable,
  PackageVersionCreated,
  TerritoryAvailabilityUpdated,
  UnknownNotification,
  WebhookPing,
} from "./payload.js";
export { memoryDeliveryStore } from "./dedupe.js";
export type { DeliveryStore } from "./dedupe.js";
export { createNotificationHandler } from "./handler.js";
export type { NotificationHandlerOptions } from "./handler.js";
