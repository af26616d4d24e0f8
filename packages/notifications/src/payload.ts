import { NotificationError } from "./errors.js";

interface Common {
  /** The notification's id: the same for every delivery of one notification (duplicates). */
  id: string;
  /** When it was sent, as App Store Connect gives it. */
  timestamp: string | undefined;
  /** When the event happened. */
  eventTimestamp: string | undefined;
  marketplaceAppId: string;
  appId: string;
  /** The whole payload, for fields asc-kit does not type. */
  raw: Record<string, unknown>;
}

/** A new version of an app's package can be downloaded (with the marketplace's API key). */
export interface PackageVersionAvailable extends Common {
  type: "alternativeDistributionPackageVersionAvailable";
  alternativeDistributionPackageId: string;
  alternativeDistributionPackageVersionId: string;
  alternativeDistributionPackageVersionNum: string | undefined;
}

/** Versions of an app may no longer be distributed: remove these packages. */
export interface AppVersionsUnavailable extends Common {
  type: "appVersionsUnavailable";
  alternativeDistributionPackageIds: string[];
}

/** The app may no longer be distributed: remove all its versions. */
export interface AppUnavailable extends Common {
  type: "appUnavailable";
}

/** What every `/v1/webhooks` event about alternative distribution carries. */
interface WebhookEventCommon {
  /** The event's id: the same for every delivery of one event (duplicates, redeliveries). */
  id: string;
  timestamp: string | undefined;
  /** The app the event is about. */
  appId: string;
  /** The marketplace app the webhook belongs to. */
  marketplaceAppId: string | undefined;
  /** The resource the event is about (`relationships.instance`). */
  instance: { type: string; id: string };
  raw: Record<string, unknown>;
}

/** `ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED`: a package version can be downloaded. */
export interface PackageVersionCreated extends WebhookEventCommon {
  type: "alternativeDistributionPackageVersionCreated";
}

/** `ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED`: a package may (no longer) be distributed. */
export interface PackageAvailableUpdated extends WebhookEventCommon {
  type: "alternativeDistributionPackageAvailableUpdated";
  available: boolean | undefined;
}

/** `ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED`: where the app may be distributed changed. */
export interface TerritoryAvailabilityUpdated extends WebhookEventCommon {
  type: "alternativeDistributionTerritoryAvailabilityUpdated";
  available: boolean | undefined;
  /** ISO 3166-1 alpha-3 codes. */
  territories: string[];
}

/** A test event sent by `POST /v1/webhookPings`. */
export interface WebhookPing {
  type: "webhookPingCreated";
  id: string;
  timestamp: string | undefined;
  raw: Record<string, unknown>;
}

/** A notification of a type asc-kit does not know yet: kept whole, never dropped. */
export interface UnknownNotification {
  type: "unknown";
  id: string;
  /** The `type` App Store Connect sent. */
  sentType: string;
  raw: Record<string, unknown>;
}

/**
 * Every notification asc-kit reads: the deprecated marketplace webhook's three types, the
 * `/v1/webhooks` events about alternative distribution, a ping, and anything else as unknown.
 */
export type MarketplaceNotification =
  | PackageVersionAvailable
  | AppVersionsUnavailable
  | AppUnavailable
  | PackageVersionCreated
  | PackageAvailableUpdated
  | TerritoryAvailabilityUpdated
  | WebhookPing
  | UnknownNotification;

/** The `/v1/webhooks` event types, as their payloads' `type` spells them. */
const webhookTypes = new Set([
  "alternativeDistributionPackageVersionCreated",
  "alternativeDistributionPackageAvailableUpdated",
  "alternativeDistributionTerritoryAvailabilityUpdated",
]);

/** Apple's page spells one type two ways; both are read, case-insensitively. */
const knownTypes: Record<
  string,
  "alternativeDistributionPackageVersionAvailable" | "appVersionsUnavailable" | "appUnavailable"
> = {
  alternativedistributionpackageversionavailable: "alternativeDistributionPackageVersionAvailable",
  appversionsunavailable: "appVersionsUnavailable",
  appversionunavailable: "appVersionsUnavailable",
  appunavailable: "appUnavailable",
};

/**
 * Parses a verified notification body (`{ data: { type, id, timestamp, attributes } }`) into a
 * typed notification. Throws a `NotificationError` (`ERR_PAYLOAD_INVALID`) when a field the
 * type needs is missing. Verify the signature first: this function trusts nothing it reads, but
 * neither does it check where the body came from.
 *
 * @example
 * ```ts
 * import { parseNotification } from "@asc-kit/notifications";
 *
 * const notification = parseNotification(bodyText);
 * if (notification.type === "alternativeDistributionPackageVersionAvailable") {
 *   console.log(notification.alternativeDistributionPackageVersionId);
 * }
 * ```
 */
export function parseNotification(body: string): MarketplaceNotification {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw invalid("the body is not JSON");
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (typeof data !== "object" || data === null) throw invalid("it has no data object");
  const record = data as Record<string, unknown>;
  const id = text(record.id, "data.id");
  const sentType = text(record.type, "data.type");
  if (sentType === "webhookPingCreated") {
    const attributes = (record.attributes ?? {}) as Record<string, unknown>;
    return { type: sentType, id, timestamp: optionalText(attributes.timestamp), raw: record };
  }
  if (webhookTypes.has(sentType)) return webhookEvent(sentType, id, record);
  const type = knownTypes[sentType.toLowerCase()];
  if (!type) return { type: "unknown", id, sentType, raw: record };
  const attributes = (record.attributes ?? {}) as Record<string, unknown>;
  const common = {
    id,
    timestamp: optionalText(record.timestamp),
    eventTimestamp: optionalText(attributes.eventTimestamp),
    marketplaceAppId: text(attributes.marketplaceAppId, "attributes.marketplaceAppId"),
    appId: text(attributes.appId, "attributes.appId"),
    raw: record,
  };
  switch (type) {
    case "alternativeDistributionPackageVersionAvailable":
      return {
        ...common,
        type,
        alternativeDistributionPackageId: text(
          attributes.alternativeDistributionPackageId,
          "attributes.alternativeDistributionPackageId",
        ),
        alternativeDistributionPackageVersionId: text(
          attributes.alternativeDistributionPackageVersionId,
          "attributes.alternativeDistributionPackageVersionId",
        ),
        alternativeDistributionPackageVersionNum: optionalText(
          attributes.alternativeDistributionPackageVersionNum,
        ),
      };
    case "appVersionsUnavailable": {
      const ids = attributes.alternativeDistributionPackageIds;
      if (!Array.isArray(ids) || !ids.every((value) => typeof value === "string")) {
        throw invalid("attributes.alternativeDistributionPackageIds is not a list of ids");
      }
      return { ...common, type, alternativeDistributionPackageIds: ids as string[] };
    }
    default:
      return { ...common, type };
  }
}

/**
 * A `/v1/webhooks` event. Apple lists the fields (`appId` and `timestamp`; relationships
 * `instance` and `marketplaceApp`; `available` and `territories` for the updates) without an
 * example: each is read from `attributes`, and `appId` from the top level when it is there.
 */
function webhookEvent(sentType: string, id: string, record: Record<string, unknown>) {
  const attributes = (record.attributes ?? {}) as Record<string, unknown>;
  const relationships = (record.relationships ?? {}) as Record<
    string,
    { data?: { type?: unknown; id?: unknown } } | undefined
  >;
  const instance = relationships.instance?.data;
  const common = {
    id,
    timestamp: optionalText(attributes.timestamp ?? record.timestamp),
    appId: text(attributes.appId ?? record.appId, "attributes.appId"),
    marketplaceAppId: optionalText(relationships.marketplaceApp?.data?.id),
    instance: {
      type: text(instance?.type, "relationships.instance.data.type"),
      id: text(instance?.id, "relationships.instance.data.id"),
    },
    raw: record,
  };
  const available = typeof attributes.available === "boolean" ? attributes.available : undefined;
  switch (sentType) {
    case "alternativeDistributionPackageVersionCreated":
      return { ...common, type: sentType } satisfies PackageVersionCreated;
    case "alternativeDistributionPackageAvailableUpdated":
      return { ...common, type: sentType, available } satisfies PackageAvailableUpdated;
    default: {
      const territories = attributes.territories ?? [];
      if (
        !Array.isArray(territories) ||
        territories.length > 300 ||
        !territories.every((territory) => typeof territory === "string")
      ) {
        throw invalid("attributes.territories is not a list of territory codes");
      }
      return {
        ...common,
        type: "alternativeDistributionTerritoryAvailabilityUpdated",
        available,
        territories: territories as string[],
      } satisfies TerritoryAvailabilityUpdated;
    }
  }
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "" || value.length > 1000) {
    throw invalid(`${where} is missing or not a string`);
  }
  return value;
}

function optionalText(value: unknown): string | undefined {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

function invalid(reason: string): NotificationError {
  return new NotificationError("ERR_PAYLOAD_INVALID", `The notification is not valid: ${reason}.`);
}
