import { describe, expect, it } from "vitest";
import { recordingClient } from "./test-support/recording.js";
import {
  createAlternativeDistributionPackage,
  getAlternativeDistributionPackageVersion,
  listAlternativeDistributionPackageVersions,
} from "./index.js";

const base = "https://api.example.test";
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const packageBody = {
  data: { type: "alternativeDistributionPackages", id: "p1" },
  links: { self: `${base}/v1/alternativeDistributionPackages/p1` },
};

describe("alternative distribution packages", () => {
  it("reads the version's package back after a create whose answer was lost", async () => {
    const { client, seen } = recordingClient(async (request) => {
      if (request.method === "POST") throw new TypeError("fetch failed");
      return json(200, packageBody);
    });
    const created = await createAlternativeDistributionPackage(client, { appStoreVersionId: "v1" });
    expect(created.data?.data.id).toBe("p1");
    expect(seen).toEqual([
      "POST /v1/alternativeDistributionPackages",
      "GET /v1/appStoreVersions/v1/alternativeDistributionPackage",
    ]);
  });

  it("lists the COMPLETED versions by default, and every state on request", async () => {
    const { client, seen } = recordingClient(async (request) =>
      json(200, { data: [], links: { self: request.url } }),
    );
    await listAlternativeDistributionPackageVersions(client, "p1");
    await listAlternativeDistributionPackageVersions(client, "p1", { state: "any" });
    expect(seen).toEqual([
      "GET /v1/alternativeDistributionPackages/p1/versions?limit=200&filter[state]=COMPLETED",
      "GET /v1/alternativeDistributionPackages/p1/versions?limit=200",
    ]);
    await expect(
      listAlternativeDistributionPackageVersions(client, "p1", { state: "DONE" as "any" }),
    ).rejects.toThrow(TypeError);
    await expect(listAlternativeDistributionPackageVersions(client, "..")).rejects.toThrow(
      TypeError,
    );
  });

  it("reads a version with every variant and delta, past the first page", async () => {
    const variant = (id: string) => ({ type: "alternativeDistributionPackageVariants", id });
    const { client } = recordingClient(async (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/variants")) {
        const second = url.searchParams.get("cursor") === "2";
        return json(200, {
          data: [variant(second ? "b" : "a")],
          links: { self: url.href, ...(second ? {} : { next: `${url.pathname}?cursor=2` }) },
        });
      }
      if (url.pathname.endsWith("/deltas"))
        return json(200, { data: [], links: { self: url.href } });
      return json(200, {
        data: { type: "alternativeDistributionPackageVersions", id: "v1" },
        links: { self: url.href },
      });
    });
    const { data, error } = await getAlternativeDistributionPackageVersion(client, "v1");
    expect(error?.message).toBeUndefined();
    expect(data?.version.id).toBe("v1");
    expect(data?.variants.map((item) => item.id)).toEqual(["a", "b"]);
    expect(data?.deltas).toEqual([]);
  });

  it("reads the version and its lists at once, and a missing version fails as itself", async () => {
    let inFlight = 0;
    let most = 0;
    const { client, seen } = recordingClient(async (request) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      const url = new URL(request.url);
      if (url.pathname.endsWith("/variants") || url.pathname.endsWith("/deltas"))
        return json(404, { errors: [{ status: "404", code: "NOT_FOUND", title: "list" }] });
      return json(404, { errors: [{ status: "404", code: "NOT_FOUND", title: "version" }] });
    });
    const { error } = await getAlternativeDistributionPackageVersion(client, "gone");
    expect(most).toBe(3);
    expect(seen).toHaveLength(3);
    expect(error?.status).toBe(404);
    expect(error?.errors[0]?.title).toBe("version");
  });
});
