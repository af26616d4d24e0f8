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

/** A notification of a type asc-kit does not know yet: kept whole, never dropped. */
export interface UnknownNotification {
  type: "unknown";
  id: string;
  /** The `type` App Store Connect sent. */
  sentType: string;
  raw: Record<string, unknown>;
}

export type MarketplaceNotification =
  PackageVersionAvailable | AppVersionsUnavailable | AppUnavailable | UnknownNotification;

/** Apple's page spells one type two ways; both are read, case-insensitively. */
const knownTypes: Record<string, Exclude<MarketplaceNotification["type"], "unknown">> = {
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
