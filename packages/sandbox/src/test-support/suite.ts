import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createTokenProvider } from "@asc-kit/core";
import { SignJWT, importPKCS8 } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import type { CreateSandboxOptions, SandboxHandler } from "../index.js";
import { assertMatchesSpec } from "./spec-validator.js";

/** A sandbox under test and how to reach it: over HTTP, or through its fetch handler. */
export interface Opened {
  sandbox: Omit<SandboxHandler, "fetch" | "handle">;
  send: typeof fetch;
  close(): Promise<void>;
}

export type Opener = (options?: CreateSandboxOptions) => Promise<Opened>;

export const newPublicKey = () =>
  generateKeyPairSync("ec", { namedCurve: "P-256" })
    .publicKey.export({ type: "spki", format: "pem" })
    .toString();

export const createBody = (publicKey: string, appId?: string) => ({
  data: {
    type: "alternativeDistributionKeys",
    attributes: { publicKey },
    ...(appId ? { relationships: { app: { data: { type: "apps", id: appId } } } } : {}),
  },
});

/** Opens a sandbox with `open` and returns it with a `call` that checks every answer. */
export function starter<Options extends CreateSandboxOptions, Handle extends Opened["sandbox"]>(
  open: (options?: Options) => Promise<Opened & { sandbox: Handle }>,
) {
  const running: Opened[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((opened) => opened.close()));
  });
  return async function start(options?: Options) {
    const opened = await open(options);
    running.push(opened);
    const { sandbox, send } = opened;
    const tokens = createTokenProvider(sandbox.credentials);
    /** Sends a request with a valid token and checks the answer against the excerpt. */
    async function call(method: string, path: string, body?: unknown, token?: string) {
      const response = await send(`${sandbox.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token ?? (await tokens.getToken())}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      const json = text ? (JSON.parse(text) as Record<string, any>) : undefined;
      assertMatchesSpec(method, new URL(`${sandbox.url}${path}`).pathname, response.status, json);
      return { status: response.status, json, headers: response.headers };
    }
    return { sandbox, call, tokens, send };
  };
}

/** The sandbox's behaviour, the same over every transport. */
export function sandboxSuite(open: Opener): void {
  const start = starter(open);

  describe("authentication", () => {
    async function signed(
      sandbox: Opened["sandbox"],
      claims: Record<string, unknown>,
      header: Record<string, unknown> = {},
    ) {
      const key = await importPKCS8(sandbox.credentials.privateKey, "ES256");
      const nowSeconds = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: sandbox.credentials.issuerId,
        aud: "appstoreconnect-v1",
        iat: nowSeconds - 60,
        exp: nowSeconds + 600,
        ...claims,
      })
        .setProtectedHeader({ alg: "ES256", kid: sandbox.credentials.keyId, typ: "JWT", ...header })
        .sign(key);
    }

    it("refuses each broken rule with 401 NOT_AUTHORIZED and a detail naming it", async () => {
      const { sandbox, call } = await start();
      const nowSeconds = Math.floor(Date.now() / 1000);
      const other = await importPKCS8(
        generateKeyPairSync("ec", { namedCurve: "P-256" })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
        "ES256",
      );
      const cases: Array<[string, string]> = [
        ["not-a-jwt", "is not a well-formed JWT"],
        [await signed(sandbox, { aud: "other" }), "aud must be 'appstoreconnect-v1'"],
        [
          await signed(sandbox, { iat: nowSeconds - 60, exp: nowSeconds - 60 + 1201 }),
          "longer than 20 minutes",
        ],
        [
          await signed(sandbox, { iat: nowSeconds + 120, exp: nowSeconds + 600 }),
          "iat is in the future",
        ],
        [await signed(sandbox, { iat: nowSeconds - 1000, exp: nowSeconds - 10 }), "has expired"],
        [await signed(sandbox, {}, { kid: "UNKNOWN123" }), "kid does not name a known API key"],
        [await signed(sandbox, { iss: randomUUID() }), "iss must be the issuer ID"],
        [
          await new SignJWT({
            iss: sandbox.credentials.issuerId,
            aud: "appstoreconnect-v1",
            iat: nowSeconds - 60,
            exp: nowSeconds + 600,
          })
            .setProtectedHeader({ alg: "ES256", kid: sandbox.credentials.keyId, typ: "JWT" })
            .sign(other),
          "signature does not verify",
        ],
      ];
      for (const [token, detail] of cases) {
        const { status, json } = await call(
          "GET",
          "/v1/alternativeDistributionKeys",
          undefined,
          token,
        );
        expect(status).toBe(401);
        expect(json?.errors[0].code).toBe("NOT_AUTHORIZED");
        expect(json?.errors[0].detail).toContain(detail);
      }
    });

    it("accepts individual keys (sub: user) and gives 403 to a role that may not manage keys", async () => {
      const individual = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const developer = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const issuerId = randomUUID();
      const { sandbox, send } = await start({
        apiKeys: [
          {
            keyId: "INDIVIDUAL",
            publicKeyPem: individual.publicKey.export({ type: "spki", format: "pem" }).toString(),
            role: "admin",
          },
          {
            keyId: "DEVELOPER1",
            issuerId,
            publicKeyPem: developer.publicKey.export({ type: "spki", format: "pem" }).toString(),
            role: "developer",
          },
        ],
      });
      const as = async (options: Parameters<typeof createTokenProvider>[0]) =>
        send(`${sandbox.url}/v1/alternativeDistributionKeys`, {
          headers: { Authorization: `Bearer ${await createTokenProvider(options).getToken()}` },
        });
      const individualResponse = await as({
        keyId: "INDIVIDUAL",
        privateKey: individual.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      });
      expect(individualResponse.status).toBe(200);
      const developerResponse = await as({
        keyId: "DEVELOPER1",
        issuerId,
        privateKey: developer.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      });
      expect(developerResponse.status).toBe(403);
      expect(((await developerResponse.json()) as any).errors[0].code).toBe("FORBIDDEN_ERROR");
    });
  });

  describe("creating keys", () => {
    it("creates the account key and one key per app, with 409 on a second of either", async () => {
      const { sandbox, call } = await start();
      const created = await call(
        "POST",
        "/v1/alternativeDistributionKeys",
        createBody(newPublicKey()),
      );
      expect(created.status).toBe(201);
      expect(created.json?.data.links.self).toBe(
        `${sandbox.url}/v1/alternativeDistributionKeys/${created.json?.data.id}`,
      );
      const second = await call(
        "POST",
        "/v1/alternativeDistributionKeys",
        createBody(newPublicKey()),
      );
      expect(second.status).toBe(409);
      expect(second.json?.errors[0].detail).toContain(
        "account already has an alternative distribution key",
      );
      expect(
        (
          await call(
            "POST",
            "/v1/alternativeDistributionKeys",
            createBody(newPublicKey(), "6476788026"),
          )
        ).status,
      ).toBe(201);
      const secondForApp = await call(
        "POST",
        "/v1/alternativeDistributionKeys",
        createBody(newPublicKey(), "6476788026"),
      );
      expect(secondForApp.status).toBe(409);
      expect(sandbox.stats.creates).toBe(2);
    });

    it("takes Apple's single-line PEM and stores canonical PEM", async () => {
      const { call } = await start();
      const pem = newPublicKey();
      const created = await call(
        "POST",
        "/v1/alternativeDistributionKeys",
        createBody(pem.replace(/\n/g, "")),
      );
      expect(created.json?.data.attributes.publicKey).toBe(pem);
    });

    it("answers malformed JSON and a wrong type with 400, and an unknown app with 422", async () => {
      const { call } = await start();
      expect((await call("POST", "/v1/alternativeDistributionKeys", "{nope")).status).toBe(400);
      const wrongType = await call("POST", "/v1/alternativeDistributionKeys", {
        data: { type: "apps", attributes: { publicKey: newPublicKey() } },
      });
      expect(wrongType.status).toBe(400);
      expect(wrongType.json?.errors[0].source).toEqual({ pointer: "/data/type" });
      const unknownApp = await call(
        "POST",
        "/v1/alternativeDistributionKeys",
        createBody(newPublicKey(), "999"),
      );
      expect(unknownApp.status).toBe(422);
      expect(unknownApp.json?.errors[0].source).toEqual({
        pointer: "/data/relationships/app/data/id",
      });
    });

    it("answers keys that are not EC P-256 SPKI with 422 at /data/attributes/publicKey", async () => {
      const { call } = await start();
      const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
        .publicKey.export({ type: "spki", format: "pem" })
        .toString();
      const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" })
        .publicKey.export({ type: "spki", format: "pem" })
        .toString();
      const privateKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString();
      const appleCorrupt =
        "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DA7021gAEFQUkD1YB67wg3e0VD/2c3N3Wf92nuQqDgFZuYG/NcYLwT3Zdw77s6//8XSI2NYv7WNgUONxMj+j65Qijq4/fhw==-----END PUBLIC KEY-----";
      for (const publicKey of [rsa, p384, privateKey, appleCorrupt, "hello"]) {
        const { status, json } = await call(
          "POST",
          "/v1/alternativeDistributionKeys",
          createBody(publicKey),
        );
        expect(status).toBe(422);
        expect(json?.errors[0].source).toEqual({ pointer: "/data/attributes/publicKey" });
        expect(json?.errors[0].detail).not.toContain("MIG");
      }
      expect(
        (
          await call("POST", "/v1/alternativeDistributionKeys", {
            data: { type: "alternativeDistributionKeys", attributes: {} },
          })
        ).status,
      ).toBe(422);
    });
  });

  describe("reading and removing", () => {
    it("gets, removes and reports unknown ids as 404", async () => {
      const { call } = await start();
      const id = (await call("POST", "/v1/alternativeDistributionKeys", createBody(newPublicKey())))
        .json?.data.id;
      expect((await call("GET", `/v1/alternativeDistributionKeys/${id}`)).status).toBe(200);
      expect(
        (
          await call(
            "GET",
            `/v1/alternativeDistributionKeys/${id}?fields[alternativeDistributionKeys]=publicKey`,
          )
        ).status,
      ).toBe(200);
      expect((await call("DELETE", `/v1/alternativeDistributionKeys/${id}`)).status).toBe(204);
      expect((await call("GET", `/v1/alternativeDistributionKeys/${id}`)).status).toBe(404);
      expect((await call("DELETE", `/v1/alternativeDistributionKeys/${id}`)).status).toBe(404);
    });

    it("serves an app's key and its linkage, 404 for unknown apps and apps without a key", async () => {
      const { call } = await start();
      const id = (
        await call(
          "POST",
          "/v1/alternativeDistributionKeys",
          createBody(newPublicKey(), "6476788027"),
        )
      ).json?.data.id;
      expect(
        (await call("GET", "/v1/apps/6476788027/alternativeDistributionKey")).json?.data.id,
      ).toBe(id);
      expect(
        (await call("GET", "/v1/apps/6476788027/relationships/alternativeDistributionKey")).json
          ?.data,
      ).toEqual({
        type: "alternativeDistributionKeys",
        id,
      });
      expect((await call("GET", "/v1/apps/6476788026/alternativeDistributionKey")).status).toBe(
        404,
      );
      expect(
        (await call("GET", "/v1/apps/1/relationships/alternativeDistributionKey")).status,
      ).toBe(404);
    });
  });

  describe("listing", () => {
    it("pages with a cursor, keeps limit and filters, and reports meta.paging", async () => {
      const { sandbox, call } = await start({ apps: ["1", "2", "3", "4", "5"] });
      await call("POST", "/v1/alternativeDistributionKeys", createBody(newPublicKey()));
      for (const app of ["1", "2", "3", "4", "5"])
        await call("POST", "/v1/alternativeDistributionKeys", createBody(newPublicKey(), app));
      const ids: string[] = [];
      let path: string | undefined = "/v1/alternativeDistributionKeys?exists[app]=true&limit=2";
      let pages = 0;
      while (path) {
        const { json } = await call("GET", path);
        pages++;
        ids.push(...json?.data.map((key: { id: string }) => key.id));
        expect(json?.meta.paging).toMatchObject({ total: 5, limit: 2 });
        const next: string | undefined = json?.links.next;
        if (next) {
          expect(next.startsWith(sandbox.url)).toBe(true);
          expect(new URL(next).searchParams.get("limit")).toBe("2");
          expect(new URL(next).searchParams.get("exists[app]")).toBe("true");
        }
        path = next?.slice(sandbox.url.length);
      }
      expect(pages).toBe(3);
      expect(new Set(ids).size).toBe(5);
      const accountOnly = await call(
        "GET",
        "/v1/alternativeDistributionKeys?exists[app]=false&fields[alternativeDistributionKeys]=publicKey",
      );
      expect(accountOnly.json?.data).toHaveLength(1);
    });

    it("answers bad parameters with 400 naming the parameter", async () => {
      const { call } = await start();
      for (const [query, parameter] of [
        ["limit=201", "limit"],
        ["limit=abc", "limit"],
        ["exists[app]=maybe", "exists[app]"],
        ["fields[alternativeDistributionKeys]=privateKey", "fields[alternativeDistributionKeys]"],
        ["sort=id", "sort"],
        ["cursor=garbage", "cursor"],
      ]) {
        const { status, json } = await call("GET", `/v1/alternativeDistributionKeys?${query}`);
        expect(status).toBe(400);
        expect(json?.errors[0].source).toEqual({ parameter });
      }
      expect((await call("GET", "/v1/alternativeDistributionKeys?limit=200")).status).toBe(200);
    });
  });

  describe("rate limits", () => {
    it("sends X-Rate-Limit on every response and 429 RATE_LIMIT_EXCEEDED when the budget is spent", async () => {
      const { call } = await start({ hourlyRequestLimit: 3, retryAfterSeconds: 7 });
      const remaining = [];
      for (let index = 0; index < 3; index++) {
        const { headers, status } = await call("GET", "/v1/alternativeDistributionKeys");
        expect(status).toBe(200);
        remaining.push(headers.get("x-rate-limit"));
      }
      expect(remaining).toEqual([
        "user-hour-lim:3;user-hour-rem:2;",
        "user-hour-lim:3;user-hour-rem:1;",
        "user-hour-lim:3;user-hour-rem:0;",
      ]);
      const { status, json, headers } = await call("GET", "/v1/alternativeDistributionKeys");
      expect(status).toBe(429);
      expect(json?.errors[0].code).toBe("RATE_LIMIT_EXCEEDED");
      expect(headers.get("retry-after")).toBe("7");
    });
  });

  describe("fault injection", () => {
    it("is off by default, and injects 5xx, HTML, resets before and after applying, and latency", async () => {
      const { sandbox, call, tokens, send } = await start();
      sandbox.injectFaults("503");
      expect((await call("GET", "/v1/alternativeDistributionKeys")).status).toBe(503);
      sandbox.injectFaults("reset-before");
      const token = await tokens.getToken();
      const post = (body: unknown) =>
        send(`${sandbox.url}/v1/alternativeDistributionKeys`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      await expect(post(createBody(newPublicKey()))).rejects.toThrow();
      expect(sandbox.stats.creates).toBe(0);
      sandbox.injectFaults("reset-after");
      await expect(post(createBody(newPublicKey()))).rejects.toThrow();
      expect(sandbox.stats.creates).toBe(1);
      sandbox.injectFaults("html");
      const html = await send(`${sandbox.url}/v1/alternativeDistributionKeys`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(html.status).toBe(502);
      expect(await html.text()).toContain("<html>");
      sandbox.setFaults({ serverErrorRate: 1, random: () => 0 });
      expect((await call("GET", "/v1/alternativeDistributionKeys")).status).toBe(500);
      sandbox.setFaults({});
      expect((await call("GET", "/v1/alternativeDistributionKeys")).status).toBe(200);
      expect(sandbox.stats.faults).toBe(5);
    });
  });

  describe("domains", () => {
    it("creates, lists, gets and removes domains, with 409 on a duplicate and 422 on an invalid name", async () => {
      const { call, sandbox } = await start();
      const body = (domain: string, referenceName = "Main site") => ({
        data: { type: "alternativeDistributionDomains", attributes: { domain, referenceName } },
      });
      const created = await call(
        "POST",
        "/v1/alternativeDistributionDomains",
        body("Downloads.Example.com"),
      );
      expect(created.status).toBe(201);
      expect(created.json?.data.attributes).toMatchObject({
        domain: "downloads.example.com",
        referenceName: "Main site",
      });
      const id = created.json?.data.id as string;
      expect(
        (await call("POST", "/v1/alternativeDistributionDomains", body("downloads.example.com")))
          .status,
      ).toBe(409);
      for (const invalid of [
        "localhost",
        "https://example.com",
        "-bad.example.com",
        "exa mple.com",
      ]) {
        const refused = await call("POST", "/v1/alternativeDistributionDomains", body(invalid));
        expect(refused.status).toBe(422);
        expect(refused.json?.errors[0].source).toEqual({ pointer: "/data/attributes/domain" });
      }
      expect(
        (await call("POST", "/v1/alternativeDistributionDomains", body("x.example.com", "")))
          .status,
      ).toBe(422);
      await call("POST", "/v1/alternativeDistributionDomains", body("second.example.com"));
      const page = await call(
        "GET",
        "/v1/alternativeDistributionDomains?limit=1&fields[alternativeDistributionDomains]=domain",
      );
      expect(page.json?.data[0].attributes).toEqual({ domain: "downloads.example.com" });
      expect(page.json?.meta.paging).toMatchObject({ total: 2, limit: 1 });
      expect((await call("GET", `/v1/alternativeDistributionDomains/${id}`)).json?.data.id).toBe(
        id,
      );
      expect((await call("DELETE", `/v1/alternativeDistributionDomains/${id}`)).status).toBe(204);
      expect((await call("GET", `/v1/alternativeDistributionDomains/${id}`)).status).toBe(404);
      expect((await call("DELETE", `/v1/alternativeDistributionDomains/${id}`)).status).toBe(404);
      expect(
        (
          await call(
            "GET",
            "/v1/alternativeDistributionDomains?fields[alternativeDistributionDomains]=color",
          )
        ).status,
      ).toBe(400);
      expect(sandbox.stats).toMatchObject({ creates: 2, deletes: 1 });
    });
  });

  describe("alternative distribution packages", () => {
    it("creates one package per approved App Store version, and serves its versions, variants and deltas", async () => {
      const { sandbox, call } = await start();
      const body = (id: string) => ({
        data: {
          type: "alternativeDistributionPackages",
          relationships: { appStoreVersion: { data: { type: "appStoreVersions", id } } },
        },
      });
      const path = "/v1/alternativeDistributionPackages";
      const created = await call("POST", path, body("6476788026-1.0"));
      expect(created.status).toBe(201);
      const id = created.json?.data.id as string;
      expect((await call("POST", path, body("6476788026-1.0"))).json?.errors[0].code).toBe(
        "ENTITY_ERROR.ALREADY_EXISTS",
      );
      const notApproved = await call("POST", path, body("6476788026-1.1"));
      expect(notApproved.status).toBe(422);
      expect(notApproved.json?.errors[0].detail).toMatch(/PREPARE_FOR_SUBMISSION/);
      expect((await call("POST", path, body("no-such-version"))).status).toBe(422);
      expect(sandbox.stats.creates).toBe(1);

      expect(
        (await call("GET", `${path}/${id}`)).json?.data.attributes.sourceFileChecksum.file
          .algorithm,
      ).toBe("SHA_256");
      const byVersion = await call(
        "GET",
        "/v1/appStoreVersions/6476788026-1.0/alternativeDistributionPackage",
      );
      expect(byVersion.json?.data.id).toBe(id);
      expect(
        (
          await call(
            "GET",
            "/v1/appStoreVersions/6476788026-1.0/relationships/alternativeDistributionPackage",
          )
        ).json?.data,
      ).toEqual({ type: "alternativeDistributionPackages", id });
      expect(
        (await call("GET", "/v1/appStoreVersions/6476788026-1.1/alternativeDistributionPackage"))
          .status,
      ).toBe(404);

      const completed = await call("GET", `${path}/${id}/versions?filter[state]=COMPLETED`);
      expect(completed.json?.data).toHaveLength(1);
      expect(
        (await call("GET", `${path}/${id}/versions?filter[state]=REPLACED`)).json?.data,
      ).toEqual([]);
      expect((await call("GET", `${path}/${id}/versions?filter[state]=DONE`)).status).toBe(400);
      expect((await call("GET", `${path}/${id}/relationships/versions`)).json?.data).toHaveLength(
        1,
      );
      const versionId = completed.json?.data[0].id as string;
      const version = await call("GET", `/v1/alternativeDistributionPackageVersions/${versionId}`);
      expect(version.json?.data.attributes).toMatchObject({ state: "COMPLETED", version: "1.0" });
      expect(version.json?.data.attributes.url).toMatch(
        /alternative-distribution-package\.zip\?accessKey=\d+_/,
      );

      const variants = await call(
        "GET",
        `/v1/alternativeDistributionPackageVersions/${versionId}/variants`,
      );
      expect(variants.json?.data).toHaveLength(2);
      const variant = variants.json?.data[0];
      expect(variant.attributes.alternativeDistributionKeyBlob).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Date.parse(variant.attributes.urlExpirationDate)).toBeGreaterThan(Date.now());
      expect(
        (await call("GET", `/v1/alternativeDistributionPackageVariants/${variant.id}`)).json?.data
          .id,
      ).toBe(variant.id);
      expect(
        (await call("GET", `/v1/alternativeDistributionPackageDeltas/${variant.id}`)).status,
      ).toBe(404);
      expect(
        (await call("GET", `/v1/alternativeDistributionPackageVersions/${versionId}/deltas`)).json
          ?.data,
      ).toEqual([]);
      expect(
        (
          await call(
            "GET",
            `/v1/alternativeDistributionPackageVersions/${versionId}/relationships/variants`,
          )
        ).json?.data,
      ).toHaveLength(2);
      expect((await call("GET", `${path}/no-such-package`)).status).toBe(404);
    });
  });
}
