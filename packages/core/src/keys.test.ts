import { generateKeyPairSync } from "node:crypto";
import { PemError } from "@asc-kit/pem";
import { describe, expect, it } from "vitest";
import {
  addAlternativeDistributionKey,
  createAppStoreConnectClient,
  getAlternativeDistributionKey,
  getAppAlternativeDistributionKey,
  listAlternativeDistributionKeys,
  removeAlternativeDistributionKey,
} from "./index.js";

const base = "https://api.appstoreconnect.apple.com";
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicKeyPem = ec.publicKey.export({ type: "spki", format: "pem" }).toString();
const sec1Pem = ec.privateKey.export({ type: "sec1", format: "pem" }).toString();
const appleCorrupt =
  "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DA7021gAEFQUkD1YB67wg3e0VD/2c3N3Wf92nuQqDgFZuYG/NcYLwT3Zdw77s6//8XSI2NYv7WNgUONxMj+j65Qijq4/fhw==-----END PUBLIC KEY-----";

interface StoredKey {
  id: string;
  publicKey: string;
  appId?: string;
}

/**
 * An injected fetch that keeps keys in memory, with switches for the failures the helpers
 * must survive: a connection reset after a create or delete was applied.
 */
function fakeApi() {
  const keys: StoredKey[] = [];
  const calls: string[] = [];
  const faults = { resetAfterApply: false };
  let nextId = 1;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const resource = (key: StoredKey) => ({
    type: "alternativeDistributionKeys",
    id: key.id,
    attributes: { publicKey: key.publicKey },
    links: { self: `${base}/v1/alternativeDistributionKeys/${key.id}` },
  });
  const notFound = () =>
    json(404, {
      errors: [{ status: "404", code: "NOT_FOUND", title: "Not found", detail: "none" }],
    });
  async function fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    calls.push(`${request.method} ${url.pathname}${url.search}`);
    const reset = () => {
      faults.resetAfterApply = false;
      throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
    };
    if (request.method === "POST") {
      const body = (await request.json()) as {
        data: {
          attributes: { publicKey: string };
          relationships?: { app: { data: { id: string } } };
        };
      };
      const key: StoredKey = { id: `key-${nextId++}`, publicKey: body.data.attributes.publicKey };
      const appId = body.data.relationships?.app.data.id;
      if (appId) key.appId = appId;
      keys.push(key);
      if (faults.resetAfterApply) reset();
      return json(201, {
        data: resource(key),
        links: { self: `${base}/v1/alternativeDistributionKeys/${key.id}` },
      });
    }
    const [, , collection, id, related] = url.pathname.split("/");
    if (collection === "apps") {
      const key = keys.find((candidate) => candidate.appId === id);
      return key && related
        ? json(200, { data: resource(key), links: { self: url.href } })
        : notFound();
    }
    if (request.method === "DELETE") {
      const index = keys.findIndex((key) => key.id === id);
      if (index === -1) return notFound();
      keys.splice(index, 1);
      if (faults.resetAfterApply) reset();
      return new Response(null, { status: 204 });
    }
    if (id) {
      const key = keys.find((candidate) => candidate.id === id);
      return key ? json(200, { data: resource(key), links: { self: url.href } }) : notFound();
    }
    const limit = Number(url.searchParams.get("limit") ?? 50);
    const offset = Number(url.searchParams.get("cursor") ?? 0);
    const exists = url.searchParams.get("exists[app]");
    const matching = keys.filter(
      (key) => exists === null || (exists === "true") === Boolean(key.appId),
    );
    const page = matching.slice(offset, offset + limit);
    const more = offset + limit < matching.length;
    return json(200, {
      data: page.map(resource),
      links: {
        self: url.href,
        ...(more
          ? {
              next: `${base}/v1/alternativeDistributionKeys?cursor=${offset + limit}&limit=${limit}`,
            }
          : {}),
      },
      meta: { paging: { total: matching.length, limit } },
    });
  }
  const client = createAppStoreConnectClient({
    token: "test-token",
    fetch,
    retry: { baseDelayMs: 1 },
  });
  return { client, keys, calls, faults };
}

describe("the key lifecycle helpers", () => {
  it("add, list, get, app key, remove", async () => {
    const { client, keys } = fakeApi();
    const added = await addAlternativeDistributionKey(client, {
      publicKey: publicKeyPem.replace(/\n/g, ""),
    });
    expect(added.error).toBeUndefined();
    expect(added.data?.data.attributes?.publicKey).toBe(publicKeyPem);
    const appKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const appAdded = await addAlternativeDistributionKey(client, {
      publicKey: appKey,
      appId: "6476788026",
    });
    expect(keys.map((key) => key.appId)).toEqual([undefined, "6476788026"]);

    expect((await listAlternativeDistributionKeys(client)).data?.map((key) => key.id)).toEqual([
      "key-1",
      "key-2",
    ]);
    expect(
      (await listAlternativeDistributionKeys(client, { app: "with" })).data?.map((key) => key.id),
    ).toEqual(["key-2"]);
    expect(
      (await listAlternativeDistributionKeys(client, { app: "without" })).data?.map(
        (key) => key.id,
      ),
    ).toEqual(["key-1"]);
    expect((await getAlternativeDistributionKey(client, "key-1")).data?.data.id).toBe("key-1");
    expect((await getAppAlternativeDistributionKey(client, "6476788026")).data?.data.id).toBe(
      appAdded.data?.data.id,
    );

    expect(await removeAlternativeDistributionKey(client, "key-1")).toMatchObject({ data: null });
    const missing = await getAlternativeDistributionKey(client, "key-1");
    expect(missing.error?.kind).toBe("not-found");
    expect(missing.error?.message).toBe(
      "GET /v1/alternativeDistributionKeys/key-1: 404 NOT_FOUND: none",
    );
  });

  it("pages through every key with a small limit", async () => {
    const { client, calls } = fakeApi();
    for (let index = 0; index < 5; index++) {
      const key = generateKeyPairSync("ec", { namedCurve: "P-256" })
        .publicKey.export({ type: "spki", format: "pem" })
        .toString();
      await addAlternativeDistributionKey(client, { publicKey: key, appId: String(1000 + index) });
    }
    const listed = await listAlternativeDistributionKeys(client, { limit: 2 });
    expect(listed.data).toHaveLength(5);
    expect(calls.filter((call) => call.startsWith("GET"))).toEqual([
      "GET /v1/alternativeDistributionKeys?limit=2",
      "GET /v1/alternativeDistributionKeys?cursor=2&limit=2",
      "GET /v1/alternativeDistributionKeys?cursor=4&limit=2",
    ]);
  });

  it("uploads only the public key when given a private key", async () => {
    const { client, keys } = fakeApi();
    await addAlternativeDistributionKey(client, { publicKey: sec1Pem });
    expect(keys[0]?.publicKey).toBe(publicKeyPem);
  });

  it("refuses Apple's corrupt sample and RSA keys locally: nothing is sent", async () => {
    const { client, calls } = fakeApi();
    await expect(
      addAlternativeDistributionKey(client, { publicKey: appleCorrupt }),
    ).rejects.toMatchObject({
      name: "PemError",
      code: "ERR_KEY_CORRUPT",
    });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    await expect(addAlternativeDistributionKey(client, { publicKey: rsa })).rejects.toBeInstanceOf(
      PemError,
    );
    await expect(
      addAlternativeDistributionKey(client, { publicKey: publicKeyPem, appId: "abc" }),
    ).rejects.toThrow(TypeError);
    await expect(getAlternativeDistributionKey(client, "a/b")).rejects.toThrow(TypeError);
    await expect(listAlternativeDistributionKeys(client, { limit: 201 })).rejects.toThrow(
      TypeError,
    );
    expect(calls).toEqual([]);
  });

  it("finds a key whose create was applied before the connection reset, instead of adding another", async () => {
    const { client, keys, calls, faults } = fakeApi();
    faults.resetAfterApply = true;
    const added = await addAlternativeDistributionKey(client, { publicKey: publicKeyPem });
    expect(added.error).toBeUndefined();
    expect(added.data?.data.id).toBe("key-1");
    expect(keys).toHaveLength(1);
    expect(calls.filter((call) => call.startsWith("POST"))).toHaveLength(1);
  });

  it("reports an uncertain delete as done once the key is read back as gone", async () => {
    const { client, keys, faults } = fakeApi();
    await addAlternativeDistributionKey(client, { publicKey: publicKeyPem });
    faults.resetAfterApply = true;
    const removed = await removeAlternativeDistributionKey(client, "key-1");
    expect(removed.error).toBeUndefined();
    expect(keys).toHaveLength(0);
  });

  it("names the host and the errno found down the causes, or the cause's words", async () => {
    const failing = (cause: unknown) =>
      createAppStoreConnectClient({
        token: "t",
        retry: false,
        baseUrl: "https://asc.example.com",
        fetch: async () => {
          throw new TypeError("fetch failed", { cause });
        },
      });
    const nested = new AggregateError([
      Object.assign(new Error("connect"), { code: "ECONNREFUSED" }),
    ]);
    const refused = await getAlternativeDistributionKey(failing(nested), "key-1");
    expect(refused.error?.message).toMatch(
      /fetch failed reaching asc\.example\.com \(ECONNREFUSED\)$/,
    );
    const badPort = await getAlternativeDistributionKey(failing(new Error("bad port")), "key-1");
    expect(badPort.error?.message).toMatch(/fetch failed reaching asc\.example\.com \(bad port\)$/);
  });

  it("returns network failures as errors of kind network", async () => {
    const client = createAppStoreConnectClient({
      token: "t",
      retry: false,
      fetch: async () => {
        throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      },
    });
    const result = await getAlternativeDistributionKey(client, "key-1");
    expect(result.error?.kind).toBe("network");
    expect(result.error?.message).toBe(
      "GET /v1/alternativeDistributionKeys/key-1: NETWORK_ERROR: fetch failed reaching api.appstoreconnect.apple.com (ECONNREFUSED)",
    );
  });
});
