import { AppStoreConnectError } from "@asc-kit/errors";
import { describe, expect, it } from "vitest";
import { createAppStoreConnectClient, toResult, unwrap } from "./index.js";
import type { RequestFetch } from "./index.js";

const token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl";

function clientWith(fetch: RequestFetch) {
  return createAppStoreConnectClient({
    token,
    baseUrl: "https://api.example.test",
    retry: false,
    fetch,
  });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const notFound = {
  errors: [{ status: "404", code: "NOT_FOUND", title: "Not found", detail: "No such key." }],
};
const page = {
  data: [],
  links: { self: "https://api.example.test/v1/alternativeDistributionKeys" },
};

describe("one error model for raw calls", () => {
  it("toResult gives data, or an AppStoreConnectError naming the request", async () => {
    const ok = await toResult(
      clientWith(async () => json(200, page)).GET("/v1/alternativeDistributionKeys"),
    );
    expect(ok.data).toEqual(page);
    const missing = await toResult(
      clientWith(async () => json(404, notFound)).GET("/v1/alternativeDistributionKeys/{id}", {
        params: { path: { id: "k1" } },
      }),
    );
    expect(missing.error).toBeInstanceOf(AppStoreConnectError);
    expect(missing.error).toMatchObject({ kind: "not-found", method: "GET" });
    expect(missing.error?.message).toMatch(/^GET .*\/v1\/alternativeDistributionKeys\/k1: 404/);
  });

  it("toResult reports no answer and an unusable one, rather than throwing", async () => {
    const offline = await toResult(
      clientWith(async () => {
        throw new TypeError("fetch failed");
      }).GET("/v1/alternativeDistributionKeys"),
    );
    expect(offline.error).toMatchObject({ kind: "network", code: "NETWORK_ERROR" });
    const html = await toResult(
      clientWith(async () => new Response("<html>", { status: 200 })).GET(
        "/v1/alternativeDistributionKeys",
      ),
    );
    expect(html.error).toMatchObject({ kind: "invalid-response", code: "INVALID_RESPONSE" });
  });

  it("toResult names a HEAD request, whose response has no body to read", async () => {
    const client = clientWith(async () => new Response(null, { status: 404 }));
    // The excerpt declares no HEAD operation; any path can be asked for one.
    const head = client.HEAD as unknown as (path: string) => ReturnType<typeof client.GET>;
    const { error } = await toResult(head("/v1/alternativeDistributionKeys/k1"));
    expect(error).toMatchObject({ kind: "not-found", method: "HEAD" });
    expect(error?.message).toMatch(/^HEAD .*\/v1\/alternativeDistributionKeys\/k1: 404/);
  });

  it("unwrap gives the data or throws the AppStoreConnectError", async () => {
    await expect(
      unwrap(clientWith(async () => json(200, page)).GET("/v1/alternativeDistributionKeys")),
    ).resolves.toEqual(page);
    await expect(
      unwrap(
        clientWith(async () => json(404, notFound)).GET("/v1/alternativeDistributionKeys/{id}", {
          params: { path: { id: "k1" } },
        }),
      ),
    ).rejects.toMatchObject({ name: "AppStoreConnectError", code: "NOT_FOUND" });
  });
});
