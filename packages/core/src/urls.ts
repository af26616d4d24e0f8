/**
 * The URL rules of what a marketplace registers. A catalog is crawled by Applebot: https only.
 * A webhook receives notifications: https, or http to a loopback host, which is where a local
 * receiver listens when it is tried against the sandbox (App Store Connect refuses it itself).
 */
export function requireUrl(value: unknown, what: "catalog" | "webhook"): asserts value is string {
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  const loopback =
    url !== undefined &&
    (url.hostname === "localhost" ||
      url.hostname === "[::1]" ||
      /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname));
  if (url?.protocol === "https:" || (what === "webhook" && url?.protocol === "http:" && loopback)) {
    return;
  }
  throw new TypeError(
    what === "webhook"
      ? 'The URL must be an absolute https URL, such as "https://marketplace.example/notifications" (http only for a receiver on loopback).'
      : 'The URL must be an absolute https URL, such as "https://marketplace.example/sitemap.xml".',
  );
}
