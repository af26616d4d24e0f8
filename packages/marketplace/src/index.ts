export { openMarketplace } from "./marketplace.js";
export type { JobOptions, Marketplace, MarketplaceOptions, PipelineEvent } from "./marketplace.js";
export { startEmbeddedDatabase } from "./embedded.js";
export type { EmbeddedDatabase } from "./embedded.js";
export { folderStorage } from "./storage.js";
export type { PackageStorage } from "./storage.js";
export type { IngestState, MarketplaceStatus, NotificationWork, VersionWork } from "./status.js";
export { effectsOf } from "./events.js";
export type { Effect } from "./events.js";
