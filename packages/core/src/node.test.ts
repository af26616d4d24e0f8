import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, createServer } from "node:http";
import { Agent as HttpsAgent, createServer as createHttpsServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { AppStoreConnectError } from "@asc-kit/errors";
import { afterEach, describe, expect, it } from "vitest";
import { createAppStoreConnectClient } from "./index.js";
import type { AppStoreConnectClientOptions } from "./index.js";
import { createNodeFetch } from "./node.js";
import type { NodeFetch, NodeFetchOptions } from "./node.js";

const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keyId = "2X9R4HXF34";
const issuerId = "57246542-96fe-1a63-e053-0824d011072a";
const page = { data: [], links: { self: "/v1/alternativeDistributionKeys" }, meta: {} };
const pageBytes = Buffer.from(JSON.stringify(page));

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  socket: Socket;
}
type Answer = (seen: Seen, response: ServerResponse) => void;

const cleanUps: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

/** A loopback server that records each request and the connections it was sent on. */
async function serve(answer: Answer) {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry = {
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body: Buffer.concat(chunks).toString(),
      socket: request.socket,
    };
    seen.push(entry);
    answer(entry, response);
  });
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanUps.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, sockets };
}

/** A client over `fetch`, with quick retries. */
function clientWith(
  fetch: NodeFetch,
  baseUrl: string,
  client: Partial<AppStoreConnectClientOptions> = {},
) {
  return createAppStoreConnectClient({
    keyId,
    issuerId,
    privateKey,
    baseUrl,
    fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...client,
  } as AppStoreConnectClientOptions);
}

/** A client over a transport of its own, closed after the test. */
function clientOver(
  baseUrl: string,
  options: NodeFetchOptions = {},
  client: Partial<AppStoreConnectClientOptions> = {},
) {
  const fetch = createNodeFetch(options);
  cleanUps.push(() => fetch.close());
  return clientWith(fetch, baseUrl, client);
}

const list = (client: ReturnType<typeof clientOver>) =>
  client.GET("/v1/alternativeDistributionKeys", { params: { query: { limit: 50 } } });

/** What a call was rejected with: a response that arrived but cannot be used throws. */
const rejection = (call: Promise<unknown>) =>
  call.then(
    () => expect.fail("the call resolved"),
    (error: unknown) => error as AppStoreConnectError,
  );

const json = (response: ServerResponse, body: Buffer, headers: Record<string, string> = {}) => {
  response.writeHead(200, { "content-type": "application/json", ...headers });
  response.end(body);
};

describe("createNodeFetch", () => {
  it("sends the client's request as it is and hands back the parsed answer", async () => {
    const server = await serve((_seen, response) => json(response, pageBytes));
    const { data, error, response } = await list(clientOver(server.url));
    expect(error).toBeUndefined();
    expect(data).toEqual(page);
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${server.url}/v1/alternativeDistributionKeys?limit=50`);
    const [seen] = server.seen;
    expect(seen?.method).toBe("GET");
    expect(seen?.url).toBe("/v1/alternativeDistributionKeys?limit=50");
    expect(seen?.headers.authorization).toMatch(/^Bearer ey[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(seen?.headers["user-agent"]).toBe("asc-kit");
    expect(seen?.headers["accept-encoding"]).toBe("gzip, deflate, br");
  });

  it("sends a body with its length, and reads a 201", async () => {
    const server = await serve((seen, response) => {
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ data: { type: "x", id: "1", echo: JSON.parse(seen.body) } }));
    });
    const body = {
      data: { type: "alternativeDistributionKeys" as const, attributes: { publicKey: "k" } },
    };
    const { data } = await clientOver(server.url).POST("/v1/alternativeDistributionKeys", {
      body,
    });
    expect(data).toEqual({ data: { type: "x", id: "1", echo: body } });
    expect(server.seen[0]?.headers["content-length"]).toBe(String(JSON.stringify(body).length));
  });

  it("keeps one connection alive for calls one after another, until closed", async () => {
    const server = await serve((_seen, response) => json(response, pageBytes));
    const fetch = createNodeFetch();
    cleanUps.push(() => fetch.close());
    const client = clientWith(fetch, server.url);
    for (let call = 0; call < 5; call++) expect((await list(client)).data).toEqual(page);
    expect(server.sockets.size).toBe(1);
    const [socket] = server.sockets;
    const closed = new Promise((resolve) => socket!.once("close", resolve));
    fetch.close();
    await closed;
  });

  it.each([
    ["gzip", gzipSync],
    ["x-gzip", gzipSync],
    ["deflate", deflateSync],
    ["deflate", deflateRawSync],
    ["br", brotliCompressSync],
    ["gzip, br", (bytes: Buffer) => brotliCompressSync(gzipSync(bytes))],
  ])("decodes a %s body", async (coding, encode) => {
    const server = await serve((_seen, response) =>
      json(response, encode(pageBytes), { "content-encoding": coding }),
    );
    expect((await list(clientOver(server.url))).data).toEqual(page);
  });

  it("leaves a body of an unknown coding as it came, as fetch does", async () => {
    const server = await serve((_seen, response) =>
      json(response, gzipSync(pageBytes), { "content-encoding": "gzip, zstd" }),
    );
    const error = await rejection(list(clientOver(server.url)));
    expect(error).toBeInstanceOf(AppStoreConnectError);
    expect(error.code).toBe("INVALID_RESPONSE");
  });

  it.each([
    [
      "a declared length",
      (response: ServerResponse) =>
        json(response, Buffer.alloc(2048, 32), { "content-length": "2048" }),
    ],
    [
      "a chunked body",
      (response: ServerResponse) => {
        response.writeHead(200, { "content-type": "application/json" });
        for (let piece = 0; piece < 8; piece++) response.write(Buffer.alloc(256, 32));
        response.end();
      },
    ],
    [
      "a gzip body that decodes past it",
      (response: ServerResponse) =>
        json(response, gzipSync(Buffer.alloc(1 << 20, 32)), { "content-encoding": "gzip" }),
    ],
  ])("refuses %s over maxResponseBytes, once", async (_what, answer) => {
    const server = await serve((_seen, response) => answer(response));
    const error = await rejection(list(clientOver(server.url, { maxResponseBytes: 1024 })));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toMatch(/larger than maxResponseBytes \(1024/);
    expect(server.seen).toHaveLength(1);
  });

  it("holds the client's own cap too", async () => {
    const server = await serve((_seen, response) => json(response, Buffer.alloc(2048, 32)));
    const client = clientOver(server.url, {}, { maxResponseBytes: 1000 });
    const error = await rejection(list(client));
    expect(error.message).toMatch(/maxResponseBytes \(1000 bytes\)/);
  });

  it("tries a GET again when its body breaks off, and keeps what the server said", async () => {
    const server = await serve((seen, response) => {
      if (server.seen.length > 1) return json(response, pageBytes);
      response.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      response.write(pageBytes.subarray(0, 10));
      setTimeout(() => seen.socket.destroy(), 10);
    });
    expect((await list(clientOver(server.url))).data).toEqual(page);
    expect(server.seen).toHaveLength(2);
    const once = clientOver(server.url, {}, { retry: false });
    server.seen.length = 0;
    const error = await rejection(list(once));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toMatch(/failed while the 200 response's body/);
  });

  it("does not follow a redirect", async () => {
    const server = await serve((_seen, response) => {
      response.writeHead(302, { location: "https://elsewhere.example/" });
      response.end();
    });
    const { error, response } = await list(clientOver(server.url));
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("https://elsewhere.example/");
    expect(error).toBeDefined();
    expect(server.seen).toHaveLength(1);
  });

  it("aborts the connection at the timeout", async () => {
    const server = await serve(() => undefined);
    const client = clientOver(server.url, {}, { timeoutMs: 50, retry: false });
    await expect(list(client)).rejects.toMatchObject({ code: "TIMEOUT", kind: "network" });
    const [socket] = server.sockets;
    await new Promise((resolve) =>
      socket!.destroyed ? resolve(0) : socket!.once("close", resolve),
    );
  });

  it("stops at the caller's own abort, with the caller's reason", async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    const call = clientOver(server.url).GET("/v1/alternativeDistributionKeys", {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("enough")), 20);
    await expect(call).rejects.toThrow("enough");
  });

  it("reports a refused connection as a network error with its code", async () => {
    const server = await serve(() => undefined);
    const url = server.url;
    await cleanUps.pop()!();
    const error = await rejection(list(clientOver(url, {}, { retry: false })));
    expect(error).toBeInstanceOf(AppStoreConnectError);
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it("refuses a status outside 200 to 599", async () => {
    const server = await serve((_seen, response) => {
      response.writeHead(600);
      response.end("{}");
    });
    const error = await rejection(list(clientOver(server.url, {}, { retry: false })));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.message).toMatch(/status 600/);
  });

  it("sends through the agents it is given, and leaves them open", async () => {
    const server = await serve((_seen, response) => json(response, pageBytes));
    const agent = new Agent({ keepAlive: true });
    let connections = 0;
    const createConnection = agent.createConnection.bind(agent);
    agent.createConnection = (...args) => (connections++, createConnection(...args));
    cleanUps.push(() => agent.destroy());
    const fetch = createNodeFetch({ agents: { http: agent } });
    const client = clientWith(fetch, server.url);
    expect((await list(client)).data).toEqual(page);
    fetch.close();
    expect((await list(client)).data).toEqual(page);
    expect(connections).toBe(1);
  });

  it("speaks https, trusts what its agent trusts, and refuses a certificate nobody vouched for", async () => {
    // The download package's self-signed certificate for localhost and 127.0.0.1 (test-only key).
    const fixtures = new URL("../../download/src/test-fixtures/", import.meta.url);
    const cert = readFileSync(new URL("localhost-cert.pem", fixtures));
    const key = readFileSync(new URL("localhost-key.pem", fixtures));
    const server = createHttpsServer({ cert, key }, (_request, response) =>
      json(response, gzipSync(pageBytes), { "content-encoding": "gzip" }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanUps.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const agent = new HttpsAgent({ ca: cert, keepAlive: true });
    cleanUps.push(() => agent.destroy());
    const trusting = createNodeFetch({ agents: { https: agent } });
    expect((await list(clientWith(trusting, url))).data).toEqual(page);
    const error = await rejection(list(clientOver(url, {}, { retry: false })));
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.message).toMatch(/self.signed|certificate/i);
  });

  it("takes only http and https, and a sensible cap", async () => {
    const fetch = createNodeFetch();
    await expect(fetch(new Request("ftp://example.com/"))).rejects.toThrow(TypeError);
    expect(() => createNodeFetch({ maxResponseBytes: 0 })).toThrow(TypeError);
    expect(() => createNodeFetch(null as never)).toThrow(TypeError);
  });
});
