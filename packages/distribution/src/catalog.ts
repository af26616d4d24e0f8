import { deviceUrl } from "./configuration.js";
import type { DistributionStore, StoredVersion } from "./store.js";
import { newestFirst } from "./versions.js";

/** What the store does not know of an app, for its search page: all optional. */
export interface CatalogDetails {
  /** The app's name. Default: its bundle ID. */
  name?: string;
  description?: string;
  /** Apple asks for all four, each from 0 to 100 (`ratingCount` a whole number). */
  rating?: { ratingValue: number; ratingCount: number; bestRating: number; worstRating: number };
  /** Where the app is offered: ISO 3166-1 alpha-2 codes (`FR`, `DE`). */
  countries?: readonly string[];
  /** How popular the app is in the marketplace, from 0 to 100. */
  popularity?: number;
}

export interface CatalogOptions {
  /**
   * The catalog's base URL, on the registered domain and one host: the sitemap is
   * `<url>sitemap.xml` (what `catalogUrl` in App Store Connect points at) and each app's page
   * `<url>apps/<appleItemId>`.
   */
  url: string;
  /** Per app, what its page says beyond the store's record (name, rating, countries, …). */
  details?(appleItemId: string): CatalogDetails | undefined | Promise<CatalogDetails | undefined>;
  /**
   * Name the pages `apps/<appleItemId>.html`, for a static host that gives a file's type by its
   * extension (`asc-kit catalog build`). Default false: `apps/<appleItemId>`, as served here.
   */
  htmlExtension?: boolean;
}

/** The catalog as files: path under the catalog URL, and its body and type. */
export type CatalogFiles = Map<string, { body: string; contentType: string }>;

/** Apple's keys in `supportingData`, as its page on marketplace search names them. */
const searchKeys = {
  appleItemId: "com.apple.alternativeDistribution.search.appleItemId",
  appleVersionId: "com.apple.alternativeDistribution.search.appleVersionId",
  popularity: "com.apple.alternativeDistribution.search.ranking.popularity",
} as const;
/** URLs per sitemap file, as sitemaps.org allows; past it the sitemap is an index. */
const urlsPerSitemap = 50_000;
const html = "text/html; charset=utf-8";
const xml = "application/xml; charset=utf-8";

/**
 * The search catalog Applebot crawls for a marketplace, from the store's registered versions:
 * `sitemap.xml` (an index of `sitemap-N.xml` past 50,000 apps) and, per app with a version that
 * may be handed out, a server-rendered page holding its JSON-LD `MobileApplication`: the
 * required `datePublished` (when its newest available version was registered) and
 * `supportingData` with the Apple item and version IDs, and the optional rating, countries and
 * popularity from `details`. Withdrawn apps are left out.
 *
 * @example
 * ```ts
 * import { buildCatalog } from "@asc-kit/distribution";
 * import type { DistributionStore } from "@asc-kit/distribution";
 *
 * declare const store: DistributionStore;
 * const files = await buildCatalog(store, { url: "https://search.example.com/" });
 * console.log([...files.keys()]); // ["sitemap.xml", "apps/6476788027", …]
 * ```
 */
export async function buildCatalog(
  store: DistributionStore,
  options: CatalogOptions,
): Promise<CatalogFiles> {
  const base = catalogBase(options.url);
  const versions = await store.versionsOf(await store.apps());
  const newest = new Map<string, StoredVersion>();
  for (const version of newestFirst(versions.filter((version) => version.available))) {
    if (!newest.has(version.appleItemId)) newest.set(version.appleItemId, version);
  }
  const files: CatalogFiles = new Map();
  const pages: Array<{ loc: string; lastmod: string }> = [];
  for (const [appleItemId, version] of [...newest].sort(([a], [b]) => a.localeCompare(b))) {
    const path = `apps/${appleItemId}${options.htmlExtension ? ".html" : ""}`;
    const details = checkedDetails(appleItemId, await options.details?.(appleItemId));
    const loc = new URL(path, base).href;
    files.set(path, { body: appPage(mobileApplication(version, loc, details)), contentType: html });
    pages.push({ loc, lastmod: publishedDate(version.registeredAt) });
  }
  for (const [name, body] of sitemaps(pages, base)) files.set(name, { body, contentType: xml });
  return files;
}

/**
 * The JSON-LD `MobileApplication` of one version, as its app page carries it. `supportingData`
 * is a schema.org `DataFeed` of `PropertyValue`s named with Apple's keys.
 */
export function mobileApplication(
  version: StoredVersion,
  pageUrl: string,
  details: CatalogDetails = {},
): Record<string, unknown> {
  const supporting = [
    { "@type": "PropertyValue", propertyID: searchKeys.appleItemId, value: version.appleItemId },
    {
      "@type": "PropertyValue",
      propertyID: searchKeys.appleVersionId,
      value: version.appleVersionId,
    },
    ...(details.popularity === undefined
      ? []
      : [
          {
            "@type": "PropertyValue",
            propertyID: searchKeys.popularity,
            value: details.popularity,
          },
        ]),
  ];
  return {
    "@context": "https://schema.org",
    "@type": "MobileApplication",
    name: details.name ?? version.bundleId,
    url: pageUrl,
    ...(details.description === undefined ? {} : { description: details.description }),
    softwareVersion: version.shortVersionString,
    operatingSystem: version.platforms
      .map((platform) =>
        [platform, version.minimumSystemVersions[platform]].filter(Boolean).join(" "),
      )
      .join(", "),
    datePublished: publishedDate(version.registeredAt),
    supportingData: { "@type": "DataFeed", dataFeedElement: supporting },
    ...(details.rating
      ? { aggregateRating: { "@type": "AggregateRating", ...details.rating } }
      : {}),
    ...(details.countries ? { countriesSupported: [...details.countries] } : {}),
  };
}

/**
 * A handler for the catalog's files under `options.url`'s path (`GET` and `HEAD`), rebuilt
 * from the store at most once a minute; other paths resolve `undefined`, for the next handler.
 */
export function createCatalogHandler(
  store: DistributionStore,
  options: CatalogOptions,
): (request: Request) => Promise<Response | undefined> {
  const basePath = new URL(catalogBase(options.url)).pathname;
  let built: { files: Promise<CatalogFiles>; until: number } | undefined;
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(basePath)) return undefined;
    const name = path.slice(basePath.length);
    if (name !== "sitemap.xml" && !/^(apps\/\d{1,20}|sitemap-\d{1,6}\.xml)$/.test(name)) {
      return undefined;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (!built || built.until < Date.now()) {
      built = { files: buildCatalog(store, options), until: Date.now() + 60_000 };
      // A failed build is not kept: the next request builds again.
      built.files.catch(() => (built = undefined));
    }
    const file = (await built.files).get(name);
    if (!file) return new Response("No such app in the catalog.", { status: 404 });
    return new Response(request.method === "HEAD" ? null : file.body, {
      headers: { "content-type": file.contentType, "cache-control": "public, max-age=300" },
    });
  };
}

function catalogBase(url: string): string {
  const base = deviceUrl(url, "the catalog url");
  return base.endsWith("/") ? base : `${base}/`;
}

/** `YYYY-MM-DDThh:mm:ssZ`, as Apple asks: UTC, no fraction of a second. */
function publishedDate(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19)}Z`;
}

function appPage(document: Record<string, unknown>): string {
  // Inside <script>, "<" would let a name close the element: JSON allows it escaped.
  const json = JSON.stringify(document).replace(/</g, "\\u003c");
  const text = (value: unknown) =>
    String(value).replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${text(document.name)}</title>`,
    `<script type="application/ld+json">${json}</script>`,
    `</head><body><h1>${text(document.name)}</h1>`,
    `<p>Version ${text(document.softwareVersion)} for ${text(document.operatingSystem)}.</p>`,
    "</body></html>",
    "",
  ].join("\n");
}

function sitemaps(
  pages: Array<{ loc: string; lastmod: string }>,
  base: string,
): Array<[string, string]> {
  const urlset = (part: typeof pages) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${part
      .map(
        ({ loc, lastmod }) =>
          `<url><loc>${escapeXml(loc)}</loc><lastmod>${lastmod}</lastmod></url>`,
      )
      .join("\n")}\n</urlset>\n`;
  if (pages.length <= urlsPerSitemap) return [["sitemap.xml", urlset(pages)]];
  const parts: Array<[string, string]> = [];
  for (let start = 0; start < pages.length; start += urlsPerSitemap) {
    parts.push([
      `sitemap-${parts.length + 1}.xml`,
      urlset(pages.slice(start, start + urlsPerSitemap)),
    ]);
  }
  const index = `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${parts
    .map(([name]) => `<sitemap><loc>${escapeXml(new URL(name, base).href)}</loc></sitemap>`)
    .join("\n")}\n</sitemapindex>\n`;
  return [["sitemap.xml", index], ...parts];
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The details, checked against what Apple accepts; a `TypeError` names the app and the field. */
function checkedDetails(appleItemId: string, details: CatalogDetails | undefined): CatalogDetails {
  if (details === undefined) return {};
  const fail = (what: string) => {
    throw new TypeError(`The catalog details of app ${appleItemId}: ${what}.`);
  };
  const percent = (value: unknown) => typeof value === "number" && value >= 0 && value <= 100;
  if (details.name !== undefined && (typeof details.name !== "string" || details.name === "")) {
    fail("name must be a non-empty string");
  }
  if (details.popularity !== undefined && !percent(details.popularity)) {
    fail("popularity must be a number from 0 to 100");
  }
  if (details.countries !== undefined) {
    if (
      !Array.isArray(details.countries) ||
      !details.countries.every((c) => /^[A-Z]{2}$/.test(c))
    ) {
      fail("countries must be ISO 3166-1 alpha-2 codes such as FR");
    }
  }
  const rating = details.rating;
  if (rating !== undefined) {
    const { ratingValue, ratingCount, bestRating, worstRating } = rating;
    if (![ratingValue, bestRating, worstRating].every(percent)) {
      fail("rating needs ratingValue, bestRating and worstRating, each from 0 to 100");
    }
    if (!Number.isInteger(ratingCount) || ratingCount < 0) {
      fail("rating.ratingCount must be a whole number");
    }
  }
  return details;
}
