import type { StoredVersion } from "./store.js";

/** The platforms MarketplaceKit names in restore and updates requests. */
export const platforms = ["iOS", "iPadOS"] as const;
export type Platform = (typeof platforms)[number];

/**
 * Compares dotted version strings (`17.4`, `1.0.14`, `2000`) number by number, a missing part
 * counting as 0; parts that are not numbers compare as text. Negative when `a` is older.
 */
export function compareVersions(a: string, b: string): number {
  const left = a.split(".");
  const right = b.split(".");
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const x = left[index] ?? "0";
    const y = right[index] ?? "0";
    const numeric = /^\d{1,15}$/.test(x) && /^\d{1,15}$/.test(y);
    const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
    if (order !== 0) return Math.sign(order);
  }
  return 0;
}

/**
 * Whether a version runs on a device: its manifest lists the platform, and the device's OS is
 * at least the platform's minimum. An iPad asks as `iPadOS`; a version built for iPhone only
 * lists `iOS`, and iPadOS runs iPhone apps, so an `iOS` version serves an iPad too when it has
 * no `iPadOS` entry of its own.
 */
export function runsOn(version: StoredVersion, platform: Platform, osVersion: string): boolean {
  const listed = version.platforms.includes(platform)
    ? platform
    : platform === "iPadOS" && version.platforms.includes("iOS")
      ? "iOS"
      : undefined;
  if (!listed) return false;
  const minimum = version.minimumSystemVersions[listed];
  return minimum === undefined || compareVersions(osVersion, minimum) >= 0;
}

/** Newest first: by `bundleVersion`, then `shortVersionString`, then registration order. */
export function newestFirst(versions: readonly StoredVersion[]): StoredVersion[] {
  return versions
    .map((version, order) => ({ version, order }))
    .sort(
      (a, b) =>
        compareVersions(b.version.bundleVersion, a.version.bundleVersion) ||
        compareVersions(b.version.shortVersionString, a.version.shortVersionString) ||
        b.order - a.order,
    )
    .map(({ version }) => version);
}
