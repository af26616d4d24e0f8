import type { MarketplaceNotification } from "@asc-kit/notifications";

/** What a notification asks of the pipeline. */
export type Effect =
  /** A package version to download, verify and serve. */
  | { kind: "version"; appId: string; versionId: string; packageId: string | undefined }
  /** An app (`scope` "") or one of its packages (`scope` its id) may, or may no longer, be served. */
  | { kind: "availability"; appId: string; scope: string; available: boolean }
  /** Where the app may be distributed changed (ISO 3166-1 alpha-3). */
  | { kind: "territories"; appId: string; territories: string[]; available: boolean };

/**
 * The effects of a notification, in both of Apple's formats. A new version also makes its app
 * available again from its time on: App Store Connect announces only versions that may be
 * distributed. A ping, an unknown type or an update without `available` has none.
 */
export function effectsOf(notification: MarketplaceNotification): Effect[] {
  switch (notification.type) {
    case "alternativeDistributionPackageVersionAvailable":
      return versionEffects(
        notification.appId,
        notification.alternativeDistributionPackageVersionId,
        notification.alternativeDistributionPackageId,
      );
    case "alternativeDistributionPackageVersionCreated":
      return versionEffects(notification.appId, notification.instance.id, undefined);
    case "appVersionsUnavailable":
      return notification.alternativeDistributionPackageIds.map((scope) => ({
        kind: "availability",
        appId: notification.appId,
        scope,
        available: false,
      }));
    case "appUnavailable":
      return [{ kind: "availability", appId: notification.appId, scope: "", available: false }];
    case "alternativeDistributionPackageAvailableUpdated": {
      if (notification.available === undefined) return [];
      const scope = notification.instance.type === "apps" ? "" : notification.instance.id;
      return [
        {
          kind: "availability",
          appId: notification.appId,
          scope,
          available: notification.available,
        },
      ];
    }
    case "alternativeDistributionTerritoryAvailabilityUpdated":
      if (notification.available === undefined) return [];
      return [
        {
          kind: "territories",
          appId: notification.appId,
          territories: notification.territories,
          available: notification.available,
        },
      ];
    default:
      return [];
  }
}

function versionEffects(appId: string, versionId: string, packageId: string | undefined): Effect[] {
  return [
    { kind: "version", appId, versionId, packageId },
    { kind: "availability", appId, scope: "", available: true },
  ];
}

/** The app a notification is about, when it is about one. */
export function appOf(notification: MarketplaceNotification): string | undefined {
  return "appId" in notification ? notification.appId : undefined;
}

/**
 * When the event happened: its `eventTimestamp` (the deprecated format) or `timestamp`; the
 * time it was received when it has neither, or one that is not a date.
 */
export function eventTimeOf(notification: MarketplaceNotification, received: Date): Date {
  const given =
    ("eventTimestamp" in notification ? notification.eventTimestamp : undefined) ??
    ("timestamp" in notification ? notification.timestamp : undefined);
  const time = given === undefined ? Number.NaN : Date.parse(given);
  return Number.isNaN(time) ? received : new Date(time);
}
