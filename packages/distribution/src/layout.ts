import { PackageError, parsePackageManifest } from "@asc-kit/core";
import { deviceUrl } from "./configuration.js";
import type { VersionRecord } from "./store.js";

/**
 * The record to register for a package layout: what its `manifest.json` says (Apple's ids, the
 * bundle ID, the version strings, the platforms and their minimum OS), and the base URL the
 * layout is served at (on the distribution domain, or a CDN). Throws a `PackageError` for a
 * manifest that is not valid and a `TypeError` for a base URL a device would not take.
 *
 * @example
 * ```ts
 * import { versionRecordOf } from "@asc-kit/distribution";
 *
 * declare const manifestText: string; // the layout's manifest.json
 * const record = versionRecordOf(manifestText, "https://apps.example.com/packages/6476788026/1/");
 * ```
 */
export function versionRecordOf(manifestText: string, packageUrl: string): VersionRecord {
  const manifest = parsePackageManifest(manifestText);
  const raw = manifest.raw;
  const text = (name: string, pattern = /^.{1,100}$/s) => {
    const value = raw[name];
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new PackageError(
        "ERR_MANIFEST_INVALID",
        `The package manifest is not valid: ${name} must be ${pattern === appleId ? "an Apple ID (a string of digits)" : "a string"}.`,
      );
    }
    return value;
  };
  const platforms = raw.platforms;
  if (!Array.isArray(platforms) || !platforms.every((platform) => typeof platform === "string")) {
    throw new PackageError(
      "ERR_MANIFEST_INVALID",
      "The package manifest is not valid: platforms must be a list of names.",
    );
  }
  const minimum = (raw.minimumSystemVersions ?? {}) as Record<string, unknown>;
  const minimumSystemVersions: Record<string, string> = {};
  for (const [platform, version] of Object.entries(minimum)) {
    if (typeof version === "string") minimumSystemVersions[platform] = version;
  }
  const base = deviceUrl(packageUrl, "packageUrl");
  return {
    appleItemId: text("appleItemId", appleId),
    appleVersionId: text("appleVersionId", appleId),
    bundleId: manifest.bundleId,
    shortVersionString: text("shortVersionString"),
    bundleVersion: text("bundleVersion"),
    platforms: platforms as string[],
    minimumSystemVersions,
    packageUrl: base.endsWith("/") ? base : `${base}/`,
  };
}

const appleId = /^\d{1,20}$/;
