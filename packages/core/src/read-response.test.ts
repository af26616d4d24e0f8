import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createAppStoreConnectClient } from "./index.js";
import type { RequestFetch } from "./index.js";

// A full collection on demand, to see what a kept response still holds.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const page = {
  data: [],
  links: { self: "https://api.example.test/v1/alternativeDistributionKeys" },
};

/** A client whose responses come from `fetch`, and a middleware that sees each response. */
function clientWith(fetch: RequestFetch, onResponse?: (response: Response) => Promise<void>) {
  return createAppStoreConnectClient({
    token: "a.b.c",
    baseUrl: "https://api.example.test",
    retry: false,
    fetch,
    middleware: onResponse
      ? [{ onResponse: async ({ response }) => void (await onResponse(response)) }]
      : [],
  });
}

describe("a response whose body the client read within its attempt", () => {
  it("is still a Response: status, headers, url, and every body method, once", async () => {
    let seen: Response | undefined;
    const client = clientWith(
      async () => new Response(JSON.stringify(page), { status: 200, headers: { "x-custom": "1" } }),
      async (response) => {
        seen = response;
        const copy = response.clone();
        expect(copy.bodyUsed).toBe(false);
        expect(await copy.json()).toEqual(page);
        expect(copy.bodyUsed).toBe(true);
        await expect(copy.text()).rejects.toThrow(TypeError);
        expect(await new Response(response.clone().body).text()).toBe(JSON.stringify(page));
        expect(new Uint8Array(await response.clone().arrayBuffer())).toHaveLength(
          JSON.stringify(page).length,
        );
        expect(await (await response.clone().blob()).text()).toBe(JSON.stringify(page));
      },
    );
    const { data, response } = await client.GET("/v1/alternativeDistributionKeys");
    expect(data).toEqual(page);
    expect(response).toBe(seen);
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-custom")).toBe("1");
    expect(response.headers.get("content-length")).toBe(String(JSON.stringify(page).length));
    // The fetch left url empty; the client says which request this answers.
    expect(response.url).toBe("https://api.example.test/v1/alternativeDistributionKeys");
    expect(response.bodyUsed).toBe(true);
    expect(response.body).toBeNull();
    expect(() => response.clone()).toThrow(TypeError);
  });

  it("reports a body that is not JSON as INVALID_RESPONSE, and an error body as text", async () => {
    const broken = clientWith(async () => new Response("{not json", { status: 200 }));
    await expect(broken.GET("/v1/alternativeDistributionKeys")).rejects.toMatchObject({
      code: "INVALID_RESPONSE",
    });
    const refused = clientWith(
      async () =>
        new Response(
          JSON.stringify({ errors: [{ status: "404", code: "NOT_FOUND", title: "t" }] }),
          {
            status: 404,
          },
        ),
    );
    const { error } = await refused.GET("/v1/alternativeDistributionKeys");
    expect(error).toMatchObject({ errors: [{ code: "NOT_FOUND" }] });
  });

  it("gives fetch's own immutable headers a length only where openapi-fetch needs one", async () => {
    const body = JSON.stringify(page);
    const compressed = gzipSync(body);
    const server = createServer((request, response) => {
      if (request.url?.endsWith("/chunked")) {
        response.writeHead(200, { "content-type": "application/json" });
        response.write(body.slice(0, 10));
        response.end(body.slice(10));
      } else if (request.url?.endsWith("/gzip")) {
        response.writeHead(200, {
          "content-type": "application/json",
          "content-encoding": "gzip",
          "content-length": String(compressed.byteLength),
        });
        response.end(compressed);
      } else {
        response.writeHead(202, { "content-type": "application/json" });
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = createAppStoreConnectClient({
        token: "a.b.c",
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        retry: false,
      });
      const get = (path: string) => client.GET(path as "/v1/alternativeDistributionKeys");
      // Chunked: no length came, so the one read is given (openapi-fetch then reads json()).
      const chunked = await get("/chunked");
      expect(chunked.data).toEqual(page);
      expect(chunked.response.headers.get("content-length")).toBe(String(body.length));
      expect(chunked.response.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/chunked$/);
      // Compressed: the server's own length stays, though more bytes were read.
      const gzip = await get("/gzip");
      expect(gzip.data).toEqual(page);
      expect(gzip.response.headers.get("content-length")).toBe(String(compressed.byteLength));
      // Empty and chunked: no data, and the headers as they came.
      const empty = await get("/empty");
      expect(empty.response.status).toBe(202);
      expect(empty.data).toBeUndefined();
      expect(empty.response.headers.get("content-length")).toBeNull();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("lets its request go: kept after its call, it holds no more of it than its method and url", async () => {
    // Under load undici keeps each fetch's response until a full collection: a request held
    // from the response stayed that long too, with its headers and signal.
    let sent: WeakRef<Request> | undefined;
    const client = clientWith(async (request) => {
      sent = new WeakRef(request);
      return new Response(JSON.stringify(page), { status: 200 });
    });
    const { response } = await client.GET("/v1/alternativeDistributionKeys");
    // A weak reference's target is kept to the end of the task that made it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(sent?.deref()).toBeUndefined();
    expect(response.url).toBe("https://api.example.test/v1/alternativeDistributionKeys");
  });
});
