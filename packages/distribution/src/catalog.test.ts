import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jsonld from "jsonld";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCatalog, createCatalogHandler } from "./catalog.js";
import { openEmbeddedStore } from "./pglite.js";
import type { DistributionStore } from "./store.js";
import { versionRecord } from "./test-support/contract.js";

const schema = "https://schema.org/";
/** schema.org's context, served from here: the tests never reach the internet. */
const documentLoader = async (url: string) => {
  if (!/^https?:\/\/schema\.org\/?$/.test(url)) throw new Error(`No document for ${url}`);
  return {
    contextUrl: undefined,
    documentUrl: url,
    document: { "@context": { "@vocab": schema } },
  };
};

/** The page's JSON-LD, expanded by a JSON-LD processor: what a crawler reads. */
async function expandedPage(html: string) {
  const script = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html)?.[1];
  const expanded: unknown = await jsonld.expand(JSON.parse(script!), { documentLoader } as never);
  return (expanded as Array<Record<string, Array<Record<string, unknown>>>>)[0]!;
}

const value = (node: Record<string, unknown>, property: string) =>
  (node[`${schema}${property}`] as Array<Record<string, unknown>> | undefined)?.map(
    (entry) => entry["@value"] ?? entry,
  );

describe("the search catalog", () => {
  let folder = "";
  let store: DistributionStore;
  const app = versionRecord({ appleItemId: "6476788027", bundleVersion: "1" });
  const newer = {
    ...app,
    appleVersionId: "2000000002",
    bundleVersion: "2",
    shortVersionString: "1.1",
  };
  const withdrawn = versionRecord({ appleItemId: "6476788028" });
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "asc-kit-catalog-"));
    store = await openEmbeddedStore(folder);
    for (const record of [app, newer, withdrawn]) await store.registerVersion(record);
    await store.setAvailability(false, withdrawn.appleItemId);
  });
  afterAll(async () => {
    await store?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it("has a page per served app, its newest version in JSON-LD as Apple asks", async () => {
    const files = await buildCatalog(store, {
      url: "https://search.example.com/catalog/",
      details: (id) =>
        id === app.appleItemId
          ? {
              name: "Example </script><b>",
              rating: { ratingValue: 88, ratingCount: 12, bestRating: 100, worstRating: 0 },
              countries: ["FR", "DE"],
              popularity: 70,
            }
          : undefined,
    });
    expect([...files.keys()]).toEqual(["apps/6476788027", "sitemap.xml"]);
    const node = await expandedPage(files.get("apps/6476788027")!.body);
    expect(node["@type"]).toEqual([`${schema}MobileApplication`]);
    expect(value(node, "name")).toEqual(["Example </script><b>"]);
    const published = value(node, "datePublished")![0] as string;
    expect(published).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const feed = node[`${schema}supportingData`]![0]!;
    const properties = Object.fromEntries(
      (feed[`${schema}dataFeedElement`] as Array<Record<string, unknown>>).map((entry) => [
        value(entry, "propertyID")![0],
        value(entry, "value")![0],
      ]),
    );
    expect(properties).toEqual({
      "com.apple.alternativeDistribution.search.appleItemId": "6476788027",
      "com.apple.alternativeDistribution.search.appleVersionId": "2000000002",
      "com.apple.alternativeDistribution.search.ranking.popularity": 70,
    });
    const rating = node[`${schema}aggregateRating`]![0]!;
    expect(value(rating, "ratingValue")).toEqual([88]);
    expect(value(node, "countriesSupported")).toEqual(["FR", "DE"]);
    const sitemap = files.get("sitemap.xml")!.body;
    expect(sitemap).toContain("<loc>https://search.example.com/catalog/apps/6476788027</loc>");
    expect(sitemap).not.toContain("6476788028");
  });

  it("refuses details Apple would not take, naming the app and the field", async () => {
    await expect(
      buildCatalog(store, {
        url: "https://search.example.com/",
        details: () => ({ countries: ["FRA"] }),
      }),
    ).rejects.toThrow(
      "The catalog details of app 6476788027: countries must be ISO 3166-1 alpha-2",
    );
    await expect(buildCatalog(store, { url: "http://search.example.com/" })).rejects.toThrow(
      TypeError,
    );
  });

  it("is served under its URL's path, and nothing else is", async () => {
    const handler = createCatalogHandler(store, { url: "https://search.example.com/catalog/" });
    const get = (path: string, method = "GET") =>
      handler(new Request(`https://search.example.com${path}`, { method }));
    const sitemap = await get("/catalog/sitemap.xml");
    expect(sitemap?.headers.get("content-type")).toBe("application/xml; charset=utf-8");
    const page = await get("/catalog/apps/6476788027");
    expect(page?.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect((await get("/catalog/apps/6476788028"))?.status).toBe(404);
    expect((await get("/catalog/sitemap.xml", "POST"))?.status).toBe(405);
    expect(await (await get("/catalog/sitemap.xml", "HEAD"))?.text()).toBe("");
    expect(await get("/catalog/other")).toBeUndefined();
    expect(await get("/elsewhere/sitemap.xml")).toBeUndefined();
  });
});
