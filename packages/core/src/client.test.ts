import { generateKeyPairSync } from "node:crypto";
import { AppStoreConnectError } from "@asc-kit/errors";
import { afterEach, describe, expect, it } from "vitest";
import { createAppStoreConnectClient, paginate, paginateItems } from "./index.js";
import type { AppStoreConnectClientOptions } from "./index.js";
import { errorJson, keyResource, sendJson, startTestServer } from "./test-support/server.js";
import type { Handler } from "./test-support/server.js";

const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const keyId = "2X9R4HXF34";
const issuerId = "57246542-96fe-1a63-e053-0824d011072a";
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

let stopServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopServer?.();
  stopServer = undefined;
});

async function setUp(handler: Handler, options: Partial<AppStoreConnectClientOptions> = {}) {
  const server = await startTestServer(publicKeyPem, handler);
  stopServer = server.stop;
  const client = createAppStoreConnectClient({
    keyId,
    issuerId,
    privateKey,
    baseUrl: server.url,
    retry: fastRetry,
    ...options,
  } as AppStoreConnectClientOptions);
  return { server, client };
}

const emptyPage = (base: string) => ({
  data: [],
  links: { self: `${base}/v1/alternativeDistributionKeys` },
  meta: { paging: { total: 0, limit: 50 } },
});

describe("authentication against a server that checks every token", () => {
  it("sends team tokens that verify, with exp - iat <= 1200 and iat <= now", async () => {
    const { server, client } = await setUp((_request, response) =>
      sendJson(response, 200, emptyPage("")),
    );
    const { data } = await client.GET("/v1/alternativeDistributionKeys", {
      params: { query: { limit: 50 } },
    });
    expect(data?.data).toEqual([]);
    const [seen] = server.seen;
    expect(seen?.tokenError).toBeUndefined();
    expect(seen?.header).toEqual({ alg: "ES256", kid: keyId, typ: "JWT" });
    expect(seen?.claims).toMatchObject({ iss: issuerId, aud: "appstoreconnect-v1" });
    const { iat, exp } = seen!.claims as { iat: number; exp: number };
    expect(exp - iat).toBeLessThanOrEqual(1200);
    expect(iat).toBeLessThanOrEqual(Date.now() / 1000);
    expect(seen?.url.search).toBe("?limit=50");
  });

  it("sends individual-key tokens with sub: user", async () => {
    const { server, client } = await setUp(
      (_request, response) => sendJson(response, 200, emptyPage("")),
      { issuerId: undefined } as unknown as Partial<AppStoreConnectClientOptions>,
    );
    await client.GET("/v1/alternativeDistributionKeys");
    expect(server.seen[0]?.claims).toMatchObject({ sub: "user", aud: "appstoreconnect-v1" });
    expect(server.seen[0]?.claims).not.toHaveProperty("iss");
  });

  it("makes exactly one signature for 500 concurrent requests", async () => {
    const { server, client } = await setUp((_request, response) =>
      sendJson(response, 200, emptyPage("")),
    );
    const results = await Promise.all(
      Array.from({ length: 500 }, () => client.GET("/v1/alternativeDistributionKeys")),
    );
    expect(results.every((result) => result.response.status === 200)).toBe(true);
    expect(server.seen).toHaveLength(500);
    expect(server.distinctTokens()).toBe(1);
    expect(server.seen.every((request) => request.tokenError === undefined)).toBe(true);
  });

  it("answers a 401 with one retry carrying a new token, body included", async () => {
    let refused: string | undefined;
    const { server, client } = await setUp((request, response) => {
      if (!refused) {
        refused = request.token;
        return sendJson(response, 401, errorJson(401, "NOT_AUTHORIZED", "expired"));
      }
      sendJson(response, 201, { data: keyResource("k1", "pem", ""), links: { self: "x" } });
    });
    const body = {
      data: {
        type: "alternativeDistributionKeys" as const,
        attributes: { publicKey: publicKeyPem },
      },
    };
    const { data, response } = await client.POST("/v1/alternativeDistributionKeys", { body });
    expect(response.status).toBe(201);
    expect(data?.data.id).toBe("k1");
    expect(server.seen).toHaveLength(2);
    expect(server.seen[1]?.token).not.toBe(refused);
    expect(server.seen[1]?.tokenError).toBeUndefined();
    expect(JSON.parse(server.seen[1]!.body)).toEqual(body);
  });

  it("returns a second 401 instead of looping", async () => {
    const { server, client } = await setUp((_request, response) =>
      sendJson(response, 401, errorJson(401, "NOT_AUTHORIZED", "no")),
    );
    const { error, response } = await client.GET("/v1/alternativeDistributionKeys");
    expect(response.status).toBe(401);
    expect(error?.errors?.[0]?.code).toBe("NOT_AUTHORIZED");
    expect(server.seen).toHaveLength(2);
  });
});

describe("retries", () => {
  it("waits out a 429 with Retry-After, then succeeds", async () => {
    const { server, client } = await setUp((_request, response) => {
      if (server.seen.length === 1) {
        return sendJson(response, 429, errorJson(429, "RATE_LIMIT_EXCEEDED", "slow down"), {
          "retry-after": "1",
        });
      }
      sendJson(response, 200, emptyPage(""));
    });
    const { response } = await client.GET("/v1/alternativeDistributionKeys");
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
  });

  it("retries a POST on 429, the answer that proves nothing was applied", async () => {
    const { server, client } = await setUp((_request, response) => {
      if (server.seen.length === 1)
        return sendJson(response, 429, errorJson(429, "RATE_LIMIT_EXCEEDED", "x"));
      sendJson(response, 201, { data: keyResource("k1", "pem", ""), links: { self: "x" } });
    });
    const body = {
      data: { type: "alternativeDistributionKeys" as const, attributes: { publicKey: "pem" } },
    };
    const { response } = await client.POST("/v1/alternativeDistributionKeys", { body });
    expect(response.status).toBe(201);
    expect(server.seen.map((request) => request.body)).toEqual([
      JSON.stringify(body),
      JSON.stringify(body),
    ]);
  });

  it("returns a 429 whose Retry-After is over the cap at once", async () => {
    const { server, client } = await setUp((_request, response) =>
      sendJson(response, 429, errorJson(429, "RATE_LIMIT_EXCEEDED", "x"), {
        "retry-after": "3600",
      }),
    );
    const { response } = await client.GET("/v1/alternativeDistributionKeys");
    expect(response.status).toBe(429);
    expect(server.seen).toHaveLength(1);
  });

  it("retries GETs through a burst of 503s", async () => {
    const { server, client } = await setUp((_request, response) => {
      if (server.seen.length <= 3)
        return sendJson(response, 503, errorJson(503, "UNAVAILABLE", "busy"));
      sendJson(response, 200, emptyPage(""));
    });
    const { response } = await client.GET("/v1/alternativeDistributionKeys");
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(4);
  });

  it("does not retry a POST on a 5xx, nor any method on other 4xx", async () => {
    const { server, client } = await setUp((request, response) =>
      request.method === "POST"
        ? sendJson(response, 503, errorJson(503, "UNAVAILABLE", "busy"))
        : sendJson(response, 404, errorJson(404, "NOT_FOUND", "none")),
    );
    const body = {
      data: { type: "alternativeDistributionKeys" as const, attributes: { publicKey: "pem" } },
    };
    expect((await client.POST("/v1/alternativeDistributionKeys", { body })).response.status).toBe(
      503,
    );
    expect(
      (await client.GET("/v1/alternativeDistributionKeys/{id}", { params: { path: { id: "x" } } }))
        .response.status,
    ).toBe(404);
    expect(server.seen.map((request) => request.method)).toEqual(["POST", "GET"]);
  });

  it("does not send a POST again when the connection is reset after the server applied it", async () => {
    let creates = 0;
    const { server, client } = await setUp((request, _response, raw) => {
      if (request.method === "POST") creates++;
      raw.socket.destroy();
    });
    const body = {
      data: { type: "alternativeDistributionKeys" as const, attributes: { publicKey: "pem" } },
    };
    const error = await client.POST("/v1/alternativeDistributionKeys", { body }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AppStoreConnectError);
    expect((error as AppStoreConnectError).kind).toBe("network");
    expect((error as AppStoreConnectError).hint).toMatch(/outcome is unknown/);
    expect(creates).toBe(1);
    expect(server.seen).toHaveLength(1);
  });

  it("retries a GET whose connection was reset", async () => {
    const { server, client } = await setUp((_request, response, raw) => {
      if (server.seen.length === 1) {
        raw.socket.destroy();
        return;
      }
      sendJson(response, 200, emptyPage(""));
    });
    expect((await client.GET("/v1/alternativeDistributionKeys")).response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
  });

  it("aborts a hung request after timeoutMs with a TIMEOUT error", async () => {
    const { client } = await setUp(() => undefined, { timeoutMs: 50, retry: false });
    const error = await client.GET("/v1/alternativeDistributionKeys").then(
      () => undefined,
      (reason: unknown) => reason as AppStoreConnectError,
    );
    expect(error?.code).toBe("TIMEOUT");
    expect(error?.message).toBe(
      `GET /v1/alternativeDistributionKeys: TIMEOUT: No response within 50 ms.`,
    );
  });

  it("respects the caller's AbortSignal", async () => {
    const { client } = await setUp(() => undefined);
    const controller = new AbortController();
    const pending = client.GET("/v1/alternativeDistributionKeys", { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("sends nothing for a signal aborted before the call, with or without a timeout", async () => {
    for (const timeoutMs of [30_000, 0]) {
      const sent: Request[] = [];
      const client = createAppStoreConnectClient({
        token: "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl",
        baseUrl: "https://api.example.test",
        timeoutMs,
        // A fetch that ignores signals: only the client can keep the request from going out.
        fetch: async (request) => {
          sent.push(request);
          return new Response(null, { status: 201 });
        },
      });
      const reason = new Error("the caller gave up");
      const created = client.POST("/v1/alternativeDistributionKeys", {
        body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "MFkw" } } },
        signal: AbortSignal.abort(reason),
      });
      await expect(created).rejects.toBe(reason);
      expect(sent).toEqual([]);
    }
  });
});

describe("rate limits", () => {
  it("exposes the latest X-Rate-Limit through the getter and the callback", async () => {
    const seen: unknown[] = [];
    const { client } = await setUp(
      (_request, response) =>
        sendJson(response, 200, emptyPage(""), {
          "x-rate-limit": "user-hour-lim:3500;user-hour-rem:499;",
        }),
      { onRateLimit: (rateLimit) => seen.push(rateLimit) },
    );
    expect(client.rateLimit).toBeUndefined();
    await client.GET("/v1/alternativeDistributionKeys");
    expect(client.rateLimit).toEqual({ "user-hour": { limit: 3500, remaining: 499 } });
    expect(seen).toEqual([{ "user-hour": { limit: 3500, remaining: 499 } }]);
  });
});

describe("pagination", () => {
  const pagedHandler =
    (nextBase: () => string): Handler =>
    (request, response) => {
      const cursor = Number(request.url.searchParams.get("cursor") ?? 0);
      const limit = Number(request.url.searchParams.get("limit"));
      const data = [keyResource(`k${cursor}`, "pem", "")];
      const next =
        cursor < 2
          ? `${nextBase()}/v1/alternativeDistributionKeys?cursor=${cursor + 1}&limit=${limit}`
          : undefined;
      sendJson(response, 200, {
        data,
        links: { self: "x", ...(next ? { next } : {}) },
        meta: { paging: { total: 3, limit, ...(next ? { nextCursor: String(cursor + 1) } : {}) } },
      });
    };

  it("pages three times, keeping the caller's limit and query", async () => {
    let base = "";
    const { server, client } = await setUp(pagedHandler(() => base));
    base = server.url;
    const init = { params: { query: { limit: 1, "exists[app]": false } } };
    const pages = [];
    for await (const page of paginate(client, "/v1/alternativeDistributionKeys", init))
      pages.push(page);
    expect(pages.map((page) => page.data[0]?.id)).toEqual(["k0", "k1", "k2"]);
    expect(server.seen.map((request) => request.url.search)).toEqual([
      "?limit=1&exists[app]=false",
      "?cursor=1&limit=1&exists[app]=false",
      "?cursor=2&limit=1&exists[app]=false",
    ]);
    const ids = [];
    for await (const key of paginateItems(client, "/v1/alternativeDistributionKeys", init))
      ids.push(key.id);
    expect(ids).toEqual(["k0", "k1", "k2"]);
  });

  it("refuses a next link on another host", async () => {
    const { server, client } = await setUp(pagedHandler(() => "https://evil.example"));
    const pages: unknown[] = [];
    const iterate = async () => {
      for await (const page of paginate(client, "/v1/alternativeDistributionKeys", {
        params: { query: { limit: 1 } },
      })) {
        pages.push(page);
      }
    };
    await expect(iterate()).rejects.toMatchObject({
      name: "AppStoreConnectError",
      code: "UNTRUSTED_LINK",
      kind: "invalid-response",
      message: expect.stringMatching(
        /Refusing to follow links\.next: it points to https:\/\/evil\.example/,
      ),
    });
    expect(pages).toHaveLength(1);
    expect(server.seen).toHaveLength(1);
  });

  it("stops on a repeated next link", async () => {
    let base = "";
    const { server, client } = await setUp((_request, response) =>
      sendJson(response, 200, {
        data: [keyResource("k", "pem", "")],
        links: { self: "x", next: `${base}/v1/alternativeDistributionKeys?cursor=same` },
        meta: { paging: { limit: 1 } },
      }),
    );
    base = server.url;
    let pages = 0;
    for await (const _page of paginate(client, "/v1/alternativeDistributionKeys")) pages++;
    expect(pages).toBe(2);
  });

  it("throws an AppStoreConnectError for a failed page", async () => {
    const { client } = await setUp((_request, response) =>
      sendJson(response, 403, errorJson(403, "FORBIDDEN_ERROR", "no")),
    );
    const iterate = async () => {
      for await (const _page of paginate(client, "/v1/alternativeDistributionKeys"));
    };
    await expect(iterate()).rejects.toMatchObject({
      name: "AppStoreConnectError",
      kind: "forbidden",
    });
  });
});

describe("options", () => {
  it("refuses ambiguous or missing credentials and bad base URLs", () => {
    expect(() => createAppStoreConnectClient({} as AppStoreConnectClientOptions)).toThrow(
      /exactly one way to authenticate/,
    );
    expect(() => createAppStoreConnectClient({ token: "t", keyId, privateKey })).toThrow(TypeError);
    expect(() => createAppStoreConnectClient({ token: "t", baseUrl: "ftp://x" })).toThrow(/https/);
    expect(() => createAppStoreConnectClient({ token: "t", baseUrl: "not a url" })).toThrow(
      /absolute/,
    );
  });

  it("refuses a timeout a timer cannot wait, which would fire at once", () => {
    expect(() => createAppStoreConnectClient({ token: "t", timeoutMs: 2 ** 31 })).toThrow(
      /timeoutMs must be a whole number of milliseconds up to 2147483647/,
    );
    expect(() => createAppStoreConnectClient({ token: "t", timeoutMs: 2 ** 31 - 1 })).not.toThrow();
    expect(() => createAppStoreConnectClient({ token: "t", timeoutMs: -1 })).toThrow(TypeError);
  });

  it("uses a given token and an injected fetch", async () => {
    const requests: Request[] = [];
    const client = createAppStoreConnectClient({
      token: "ready-made",
      fetch: async (request) => {
        requests.push(request);
        return new Response(JSON.stringify(emptyPage("")), {
          headers: { "content-type": "application/json" },
        });
      },
    });
    await client.GET("/v1/alternativeDistributionKeys");
    expect(requests[0]?.url).toBe(
      "https://api.appstoreconnect.apple.com/v1/alternativeDistributionKeys",
    );
    expect(requests[0]?.headers.get("authorization")).toBe("Bearer ready-made");
    expect(requests[0]?.headers.get("user-agent")).toBe("asc-kit");
  });
});
