import type { StoredPackageAsset } from "../state.js";
import type { ResourceContext } from "./context.js";
import { checksum, keyBlob, newVersion } from "./packages.js";

/**
 * A control was given an id the sandbox does not have. A `TypeError`, as every refusal of the
 * controls is; the HTTP controls answer it 404 rather than 422.
 */
export class UnknownIdError extends TypeError {}

/**
 * What Apple does to packages on its own time, for tests to act out: a delta added later, a
 * new version that replaces the current one, versions or an app withdrawn, territories
 * changed. Each change is saved, and notified to the webhooks that asked for it.
 */
export function packageControls(context: ResourceContext, forgetZip: (versionId: string) => void) {
  const data = context.data;
  const versionOf = (id: string) => {
    const version = (data.packageVersions ?? []).find((item) => item.id === id);
    if (!version) throw new UnknownIdError(`There is no package version ${id} in this sandbox.`);
    return version;
  };
  const packageOf = (id: string) => {
    const item = (data.packages ?? []).find((candidate) => candidate.id === id);
    if (!item) throw new UnknownIdError(`There is no package ${id} in this sandbox.`);
    return item;
  };
  const appOfPackage = (packageId: string) => {
    const item = packageOf(packageId);
    return (data.appStoreVersions ?? []).find((version) => version.id === item.appStoreVersionId)!
      .appId;
  };

  return {
    /**
     * Adds a delta to a package version, as Apple does after the variants: its manifest lists
     * it from then on (the same version, not a new one). Returns the delta's id.
     */
    async addDelta(packageVersionId: string): Promise<string> {
      versionOf(packageVersionId);
      const delta: StoredPackageAsset = {
        id: crypto.randomUUID(),
        packageVersionId,
        kind: "delta",
        keyBlob: keyBlob(),
        fileChecksum: checksum(),
      };
      await context.commit(() => {
        (data.packageAssets ??= []).push(delta);
        return () => void data.packageAssets!.splice(data.packageAssets!.indexOf(delta), 1);
      });
      forgetZip(packageVersionId);
      return delta.id;
    },

    /**
     * A new version of a package (`versionNumber`, default the next whole number): it becomes
     * the `COMPLETED` one and the one before is `REPLACED`, and webhooks hear of it. Returns the
     * new version's id.
     */
    async publishPackageVersion(packageId: string, versionNumber?: string): Promise<string> {
      packageOf(packageId);
      const versions = data.packageVersions ?? [];
      const current = versions.filter((version) => version.packageId === packageId);
      const next = newVersion(
        packageId,
        versionNumber ?? String(current.length + 1),
        context.installTargets,
      );
      const replaced = current.filter((version) => version.state === "COMPLETED");
      await context.commit(() => {
        for (const version of replaced) version.state = "REPLACED";
        versions.push(next.version);
        (data.packageAssets ??= []).push(...next.assets);
        data.packageVersions = versions;
        return () => {
          for (const version of replaced) version.state = "COMPLETED";
          versions.splice(versions.indexOf(next.version), 1);
          for (const asset of next.assets)
            data.packageAssets!.splice(data.packageAssets!.indexOf(asset), 1);
        };
      });
      context.notifier.emit({
        kind: "package-version-created",
        appId: appOfPackage(packageId),
        packageId,
        versionId: next.version.id,
        versionNumber: next.version.version,
      });
      return next.version.id;
    },

    /** A package may (no longer) be distributed: `…_PACKAGE_AVAILABLE_UPDATED`, or `AppVersionsUnavailable`. */
    setPackageAvailability(packageId: string, available: boolean): void {
      context.notifier.emit({
        kind: "package-availability",
        appId: appOfPackage(packageId),
        packageId,
        available,
      });
    },

    /** The app may no longer be distributed at all: every package of it, or `AppUnavailable`. */
    withdrawApp(appId: string): void {
      if (!data.apps.includes(appId))
        throw new UnknownIdError(`There is no app ${appId} in this sandbox.`);
      const versionIds = new Set(
        (data.appStoreVersions ?? [])
          .filter((version) => version.appId === appId)
          .map((version) => version.id),
      );
      const packageIds = (data.packages ?? [])
        .filter((item) => versionIds.has(item.appStoreVersionId))
        .map((item) => item.id);
      context.notifier.emit({ kind: "app-unavailable", appId, packageIds });
    },

    /** Territories (ISO 3166 alpha-3) where the app became (un)available. */
    setTerritoryAvailability(
      appId: string,
      territories: readonly string[],
      available: boolean,
    ): void {
      if (!data.apps.includes(appId))
        throw new UnknownIdError(`There is no app ${appId} in this sandbox.`);
      if (!territories.every((territory) => /^[A-Z]{3}$/.test(territory))) {
        throw new TypeError('territories are ISO 3166-1 alpha-3 codes, such as "DEU" or "FRA".');
      }
      context.notifier.emit({
        kind: "territory-availability",
        appId,
        territories: [...territories],
        available,
      });
    },
  };
}
