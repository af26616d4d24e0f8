import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AppStoreConnectError } from "@asc-kit/errors";
import { afterEach, describe, expect, it } from "vitest";
import { recordingClient } from "./test-support/recording.js";
import {
  addAlternativeDistributionKey,
  createAppStoreConnectClient,
  defaultMaxPages,
  getAlternativeDistributionDomain,
  getAlternativeDistributionKey,
  listAlternativeDistributionKeys,
  paginate,
  removeAlternativeDistributionKey,
} from "./index.js";
import type { AppStoreConnectClientOptions, RequestFetch } from "./index.js";

const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const base = "https://api.example.test";
const token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function keyPage(ids: string[], next?: string, total?: number) {
  return {
    data: ids.map((id) => ({
      type: "alternativeDistributionKeys",
      id,
      attributes: { publicKey: publicKeyPem },
      links: { self: `${base}/v1/alternativeDistributionKeys/${id}` },
    })),
    links: { self: `${base}/v1/alternativeDistributionKeys`, ...(next ? { next } : {}) },
    meta: { paging: { limit: 1, ...(total === undefined ? {} : { total }) } },
  };
}

function clientWith(fetch: RequestFetch, options: Partial<AppStoreConnectClientOptions> = {}) {
  return recordingClient(fetch, { token, rawSearch: true, ...options });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

describe("query parameters as Apple declares them (form, explode: false)", () => {
  it("sends an array as one comma-separated value", async () => {
    const { client, seen } = clientWith(async () => json(200, { data: [], links: { self: "" } }));
    await client.GET("/v1/alternativeDistributionDomains", {
      params: { query: { "fields[alternativeDistributionDomains]": ["domain", "referenceName"] } },
    });
    expect(seen).toEqual([
      "GET /v1/alternativeDistributionDomains?fields[alternativeDistributionDomains]=domain,referenceName",
    ]);
  });

  it("keeps every value of a repeated parameter in links.next", async () => {
    const { client, seen } = clientWith(async (request) =>
      new URL(request.url).searchParams.has("cursor")
        ? json(200, keyPage(["b"]))
        : json(200, keyPage(["a"], `${base}/v1/alternativeDistributionKeys?cursor=1&x=a&x=b`)),
    );
    for await (const _page of paginate(client, "/v1/alternativeDistributionKeys"));
    expect(seen[1]).toBe("GET /v1/alternativeDistributionKeys?cursor=1&x=a&x=b");
  });
});

describe("links.next", () => {
  it.each([
    ["absolute path", "/v1/alternativeDistributionKeys?cursor=1"],
    ["query only", "?cursor=1"],
  ])("follows a relative link on the same origin and path (%s)", async (_name, next) => {
    const { client, seen } = clientWith(async (request) =>
      new URL(request.url).searchParams.has("cursor")
        ? json(200, keyPage(["b"]))
        : json(200, keyPage(["a"], next)),
    );
    const { data } = await listAlternativeDistributionKeys(client);
    expect(data?.map((key) => key.id)).toEqual(["a", "b"]);
    expect(seen[1]).toBe("GET /v1/alternativeDistributionKeys?cursor=1&limit=200");
  });

  it.each([
    ["another origin", "https://evil.example/v1/alternativeDistributionKeys?cursor=1"],
    ["another path, relative", "/v1/apps?cursor=1"],
    ["another path, dot segments", "../apps?cursor=1"],
    ["not a URL", "http://[::1"],
  ])("is refused with an error result, never a thrown TypeError (%s)", async (_name, next) => {
    const { client, seen } = clientWith(async () => json(200, keyPage(["a"], next)));
    const { data, error } = await listAlternativeDistributionKeys(client);
    expect(data).toBeUndefined();
    expect(error).toMatchObject({ code: "UNTRUSTED_LINK", kind: "invalid-response" });
    expect(error?.message).toMatch(/Refusing to follow links\.next/);
    expect(seen).toHaveLength(1);
  });
});

describe("an endless links.next chain", () => {
  let counter = 0;
  const endless: RequestFetch = async () => {
    counter++;
    return json(
      200,
      keyPage([`k${counter}`], `${base}/v1/alternativeDistributionKeys?cursor=${counter}`),
    );
  };

  it(`stops at ${defaultMaxPages} pages with TOO_MANY_PAGES`, async () => {
    const { client, seen } = clientWith(endless);
    const { error } = await listAlternativeDistributionKeys(client);
    expect(error).toMatchObject({ code: "TOO_MANY_PAGES", kind: "invalid-response" });
    expect(seen).toHaveLength(defaultMaxPages);
  });

  it("stops quietly at maxPages", async () => {
    const { client } = clientWith(endless);
    let pages = 0;
    for await (const _page of paginate(client, "/v1/alternativeDistributionKeys", undefined, {
      maxPages: 5,
    }))
      pages++;
    expect(pages).toBe(5);
  });

  it("stops once meta.paging.total items are in", async () => {
    const { client, seen } = clientWith(async () =>
      json(
        200,
        keyPage(["a", "b"], `${base}/v1/alternativeDistributionKeys?cursor=${seen.length}`, 4),
      ),
    );
    const { data } = await listAlternativeDistributionKeys(client);
    expect(data).toHaveLength(4);
    expect(seen).toHaveLength(2);
  });

  it("stops after an empty page", async () => {
    const { client, seen } = clientWith(async () =>
      json(200, keyPage([], `${base}/v1/alternativeDistributionKeys?cursor=${seen.length}`)),
    );
    expect((await listAlternativeDistributionKeys(client)).data).toEqual([]);
    expect(seen).toHaveLength(1);
  });
});

describe("bodies that cannot be used", () => {
  it("reports a non-JSON 200 as INVALID_RESPONSE, from raw calls and helpers alike", async () => {
    const { client } = clientWith(
      async () =>
        new Response("<html>portal</html>", {
          status: 200,
          headers: { "content-type": "application/json" },
        }),
    );
    const thrown = await failure(client.GET("/v1/alternativeDistributionKeys"));
    expect(thrown).toBeInstanceOf(AppStoreConnectError);
    expect(thrown).toMatchObject({
      code: "INVALID_RESPONSE",
      status: 200,
      kind: "invalid-response",
    });
    const { error } = await getAlternativeDistributionKey(client, "k1");
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", status: 200 });
    expect(error?.message).toMatch(/not valid JSON/);
  });

  it("reports an empty 200 as INVALID_RESPONSE after retrying a GET", async () => {
    const { client, seen } = clientWith(async () => new Response(null, { status: 200 }));
    const { error } = await getAlternativeDistributionKey(client, "k1");
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", status: 200 });
    expect(error?.message).toMatch(/empty body/);
    expect(seen).toHaveLength(4);
  });

  it("reports a body larger than maxResponseBytes", async () => {
    const { client } = clientWith(async () => json(200, keyPage(["a".repeat(2_000)])), {
      maxResponseBytes: 1_000,
    });
    const { error } = await getAlternativeDistributionKey(client, "k1");
    expect(error).toMatchObject({ code: "INVALID_RESPONSE" });
    expect(error?.message).toMatch(/larger than maxResponseBytes \(1000 bytes\)/);
  });
});

describe("ids", () => {
  it.each([".", "..", "...", "a/b", "a%2Fb", "a b", "a\u0000"])(
    "refuses %j locally",
    async (id) => {
      const { client, seen } = clientWith(async () => json(200, {}));
      await expect(getAlternativeDistributionKey(client, id)).rejects.toThrow(TypeError);
      await expect(removeAlternativeDistributionKey(client, id)).rejects.toThrow(TypeError);
      await expect(getAlternativeDistributionDomain(client, id)).rejects.toThrow(TypeError);
      expect(seen).toEqual([]);
    },
  );
});

describe("a token that cannot go into a header", () => {
  it.each([
    ["a line feed", `${token}\nX-Injected: 1`],
    ["a carriage return", `${token}\rX`],
    ["a NUL", `${token}\u0000`],
    ["a space inside", `Bearer ${token}`],
  ])("is refused up front when it has %s, and never repeated", async (_name, bad) => {
    const error = await failure(
      Promise.resolve().then(() => clientWith(async () => json(200, {}), { token: bad })),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/cannot be sent in an HTTP header/);
    expect((error as Error).message).not.toContain("c2lnbmF0dXJl");
    const fromFunction = clientWith(async () => json(200, {}), { token: () => bad });
    const thrown = await failure(fromFunction.client.GET("/v1/alternativeDistributionKeys"));
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).not.toContain("c2lnbmF0dXJl");
    expect(fromFunction.seen).toEqual([]);
  });

  it("keeps a trailing newline from a file out of the header", async () => {
    const { client, seen } = clientWith(
      async (request) => {
        expect(request.headers.get("authorization")).toBe(`Bearer ${token}`);
        return json(200, keyPage([]));
      },
      { token: `${token}\n` },
    );
    await client.GET("/v1/alternativeDistributionKeys");
    expect(seen).toHaveLength(1);
  });
});

describe("over HTTP", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function serve(
    handler: (
      request: import("node:http").IncomingMessage,
      response: import("node:http").ServerResponse,
    ) => void,
  ) {
    const hits: string[] = [];
    const server = createServer((request, response) => {
      hits.push(`${request.method} ${request.url}`);
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
  }

  it("bounds the whole attempt, body included, with timeoutMs", async () => {
    const { url, hits } = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"data": [');
      // ...and never another byte.
    });
    const client = createAppStoreConnectClient({
      token,
      baseUrl: url,
      timeoutMs: 150,
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    const error = await failure(client.GET("/v1/alternativeDistributionKeys"));
    expect(error).toMatchObject({ name: "AppStoreConnectError", code: "TIMEOUT", kind: "network" });
    expect(hits).toHaveLength(2);
  });

  it("stops reading a body at the timeout even when the fetch ignores the signal", async () => {
    let cancelled: unknown;
    // A fetch of one's own that never looks at init.signal, and a body that never ends.
    const { client } = clientWith(
      async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start: (controller) => controller.enqueue(new TextEncoder().encode('{"data": [')),
            cancel: (reason) => void (cancelled = reason),
          }),
          { status: 200 },
        ),
      { timeoutMs: 100, retry: false },
    );
    const error = await failure(client.GET("/v1/alternativeDistributionKeys"));
    expect(error).toMatchObject({ code: "TIMEOUT", kind: "network" });
    expect(cancelled).toMatchObject({ name: "RequestTimeoutError" });
  });

  it("stops at the timeout a fetch that ignores the signal and answers after it", async () => {
    let cancelled: unknown;
    // The answer comes after the timeout, and its body never sends a byte.
    const { client } = clientWith(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return new Response(
          new ReadableStream<Uint8Array>({ cancel: (reason) => void (cancelled = reason) }),
          { status: 200 },
        );
      },
      { timeoutMs: 50, retry: false },
    );
    const error = await failure(client.GET("/v1/alternativeDistributionKeys"));
    expect(error).toMatchObject({ code: "TIMEOUT", kind: "network" });
    expect(cancelled).toMatchObject({ name: "RequestTimeoutError" });
  });

  it("reports a reset mid-body as INVALID_RESPONSE, retrying a GET", async () => {
    const { url, hits } = await serve((_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      response.write('{"data": [');
      setTimeout(() => response.destroy(), 10);
    });
    const client = createAppStoreConnectClient({
      token,
      baseUrl: url,
      retry: { attempts: 2, baseDelayMs: 1 },
    });
    const error = await failure(client.GET("/v1/alternativeDistributionKeys"));
    expect(error).toMatchObject({ code: "INVALID_RESPONSE", status: 200 });
    expect((error as Error).message).toMatch(
      /connection failed while the 200 response's body was read/,
    );
    expect(hits).toHaveLength(2);
  });

  it("never follows a redirect: a POST answered with 302 elsewhere is not a success", async () => {
    const elsewhere = await serve((_request, response) => response.end("{}"));
    const elsewhereClose = close;
    const { url } = await serve((_request, response) => {
      response.writeHead(302, { location: `${elsewhere.url}/created` });
      response.end();
    });
    const client = createAppStoreConnectClient({ token, baseUrl: url, retry: false });
    const { data, error } = await addAlternativeDistributionKey(client, {
      publicKey: publicKeyPem,
    });
    expect(data).toBeUndefined();
    expect(error).toMatchObject({ status: 302, kind: "invalid-response" });
    expect(error?.hint).toMatch(/never follows a redirect/);
    expect(elsewhere.hits).toEqual([]);
    await elsewhereClose?.();
  });
});

describe("middleware", () => {
  it("sees each request before authentication and retries, and the final response once", async () => {
    let calls = 0;
    const seenRequests: Array<string | null> = [];
    const seenStatuses: number[] = [];
    const { client } = clientWith(async () =>
      ++calls === 1 ? json(503, { errors: [] }) : json(200, keyPage(["k1"])),
    );
    client.use({
      onRequest({ request }) {
        seenRequests.push(request.headers.get("authorization"));
      },
      onResponse({ response }) {
        seenStatuses.push(response.status);
      },
    });
    const { data } = await client.GET("/v1/alternativeDistributionKeys");
    expect(data?.data).toHaveLength(1);
    expect(calls).toBe(2);
    expect(seenRequests).toEqual([null]);
    expect(seenStatuses).toEqual([200]);
  });
});
