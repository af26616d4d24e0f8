import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:net";
import { request as httpRequest } from "node:http";
import { SignJWT, importPKCS8 } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox } from "./index.js";
import type { Sandbox } from "./index.js";
import { createBody, newPublicKey } from "./test-support/suite.js";
import { createSandbox } from "./web.js";
import type { CreateSandboxOptions, SandboxHandler } from "./web.js";

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function sign(
  sandbox: Pick<SandboxHandler, "credentials">,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { typ: "JWT" },
) {
  const key = await importPKCS8(sandbox.credentials.privateKey, "ES256");
  return new SignJWT({ iss: sandbox.credentials.issuerId, aud: "appstoreconnect-v1", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: sandbox.credentials.keyId, ...header })
    .sign(key);
}

async function handler(options: CreateSandboxOptions = {}) {
  const sandbox = await createSandbox(options);
  const send = (method: string, path: string, token: string, body?: unknown, scheme = "Bearer") =>
    sandbox.fetch(`${sandbox.url}${path}`, {
      method,
      headers: {
        authorization: `${scheme} ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const detail = async (response: Response) =>
    ((await response.json()) as { errors: Array<{ detail: string }> }).errors[0]?.detail;
  return { sandbox, send, detail };
}

describe("tokens, as strict as Apple and no stricter", () => {
  it("enforces scope: method, path, and the query parameters an entry names", async () => {
    const { sandbox, send, detail } = await handler();
    const created = await send(
      "POST",
      "/v1/alternativeDistributionKeys",
      await sign(sandbox, { iat: nowSeconds(), exp: nowSeconds() + 600 }),
      createBody(newPublicKey()),
    );
    const id = ((await created.json()) as { data: { id: string } }).data.id;
    const appsOnly = await sign(sandbox, {
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
      scope: ["GET /v1/apps"],
    });
    const refused = await send("DELETE", `/v1/alternativeDistributionKeys/${id}`, appsOnly);
    expect(refused.status).toBe(401);
    expect(await detail(refused)).toBe(
      `The token's scope does not include DELETE /v1/alternativeDistributionKeys/${id}.`,
    );
    expect(sandbox.keys()).toHaveLength(1);

    const filtered = await sign(sandbox, {
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
      scope: ["GET /v1/alternativeDistributionKeys?exists[app]=false"],
    });
    const path = "/v1/alternativeDistributionKeys";
    expect((await send("GET", `${path}?exists[app]=false&limit=5`, filtered)).status).toBe(200);
    expect((await send("GET", `${path}?exists[app]=true`, filtered)).status).toBe(401);
    expect((await send("GET", path, filtered)).status).toBe(401);
    const malformed = await sign(sandbox, {
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
      scope: "GET /v1/alternativeDistributionKeys",
    });
    expect(await detail(await send("GET", path, malformed))).toMatch(/scope must be an array/);
  });

  it("accepts tokens shaped like the most used JavaScript clients', which have no iat", async () => {
    const { sandbox, send, detail } = await handler();
    const path = "/v1/alternativeDistributionKeys";
    // Header with typ, payload { iss, exp: now + 20 minutes, aud }.
    const twentyMinutes = await sign(sandbox, { exp: nowSeconds() + 1200 });
    // Header without typ, payload { iss, exp: now + 10 minutes, aud }.
    const tenMinutes = await sign(sandbox, { exp: nowSeconds() + 600 }, {});
    expect((await send("GET", path, twentyMinutes)).status).toBe(200);
    expect((await send("GET", path, tenMinutes)).status).toBe(200);
    const tooLong = await send("GET", path, await sign(sandbox, { exp: nowSeconds() + 1500 }));
    expect(tooLong.status).toBe(401);
    expect(await detail(tooLong)).toMatch(/no iat and expires more than 20 minutes from now/);

    const strict = await handler({ strictTokens: true });
    const withoutIat = await strict.send(
      "GET",
      path,
      await sign(strict.sandbox, { exp: nowSeconds() + 600 }),
    );
    expect(await strict.detail(withoutIat)).toBe("The token must have a numeric iat claim.");
    const withoutTyp = await strict.send(
      "GET",
      path,
      await sign(strict.sandbox, { iat: nowSeconds(), exp: nowSeconds() + 600 }, {}),
    );
    expect(await strict.detail(withoutTyp)).toBe("The token's typ header must be 'JWT'.");
  });

  it("reads the Bearer scheme case-insensitively, and refuses a typ other than JWT", async () => {
    const { sandbox, send, detail } = await handler();
    const token = await sign(sandbox, { iat: nowSeconds(), exp: nowSeconds() + 600 });
    const path = "/v1/alternativeDistributionKeys";
    expect((await send("GET", path, token, undefined, "bearer")).status).toBe(200);
    expect((await send("GET", path, token, undefined, "BEARER")).status).toBe(200);
    const wrongType = await sign(
      sandbox,
      { iat: nowSeconds(), exp: nowSeconds() + 600 },
      { typ: "at+jwt" },
    );
    expect(await detail(await send("GET", path, wrongType))).toBe(
      "The token's typ header must be 'JWT'.",
    );
  });
});

describe("public keys, as App Store Connect takes them", () => {
  const spkiDer = () =>
    generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
      type: "spki",
      format: "der",
    });
  const compressed = () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = pair.publicKey.export({ format: "jwk" });
    const y = Buffer.from(jwk.y!, "base64url");
    const x = Buffer.from(jwk.x!, "base64url");
    const prefix = Buffer.from("3039301306072a8648ce3d020106082a8648ce3d030107032200", "hex");
    const point = Buffer.concat([Buffer.from([2 + (y[31]! & 1)]), x]);
    return Buffer.concat([prefix, point]).toString("base64");
  };
  const pem = (base64: string) => `-----BEGIN PUBLIC KEY-----\n${base64}\n-----END PUBLIC KEY-----`;

  it.each([
    ["bare base64", () => spkiDer().toString("base64")],
    ["base64 of a whole PEM", () => Buffer.from(newPublicKey()).toString("base64")],
    ["a compressed point", () => pem(compressed())],
    [
      "a private key",
      () =>
        generateKeyPairSync("ec", { namedCurve: "P-256" })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
    ],
  ])("refuses %s with 422", async (_name, publicKey) => {
    const { sandbox, send } = await handler();
    const token = await sign(sandbox, { iat: nowSeconds(), exp: nowSeconds() + 600 });
    const response = await send(
      "POST",
      "/v1/alternativeDistributionKeys",
      token,
      createBody(publicKey()),
    );
    expect(response.status).toBe(422);
    expect(sandbox.keys()).toEqual([]);
  });

  it("accepts PEM on one line, as on Apple's own page, and with escaped line ends", async () => {
    const { sandbox, send } = await handler();
    const token = await sign(sandbox, { iat: nowSeconds(), exp: nowSeconds() + 600 });
    const oneLine = newPublicKey().replace(/\n/g, "");
    const escaped = newPublicKey().replace(/\n/g, "\\n");
    for (const [publicKey, appId] of [
      [oneLine, undefined],
      [escaped, "6476788026"],
    ] as const) {
      const response = await send(
        "POST",
        "/v1/alternativeDistributionKeys",
        token,
        createBody(publicKey, appId),
      );
      expect(response.status).toBe(201);
    }
  });
});

describe("HTTP", () => {
  const running: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sandbox) => sandbox.stop()));
  });
  async function served(options = {}) {
    const sandbox = await startSandbox(options);
    running.push(sandbox);
    const token = await sign(sandbox, { iat: nowSeconds(), exp: nowSeconds() + 600 });
    return { sandbox, token };
  }
  /** A raw request with exactly this target and Host, as a hostile client sends them. */
  function raw(url: string, target: string, headers: Record<string, string>, method = "GET") {
    const { port } = new URL(url);
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const request = httpRequest({ host: "127.0.0.1", port, path: target, method, headers });
        request.on("response", (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString()));
          response.on("end", () =>
            resolve({ status: response.statusCode!, headers: response.headers, body }),
          );
        });
        request.on("error", reject);
        request.end();
      },
    );
  }

  it("answers an unparseable target with 400, and builds links on its own URL, not Host", async () => {
    const { sandbox, token } = await served();
    const authorization = `Bearer ${token}`;
    const bad = await raw(sandbox.url, "//[", { authorization });
    expect(bad.status).toBe(400);
    const notPath = await raw(sandbox.url, "*", { authorization }, "OPTIONS");
    expect(notPath.status).toBe(400);
    const listed = await raw(sandbox.url, "/v1/alternativeDistributionKeys", {
      authorization,
      host: "evil.example",
    });
    expect(JSON.parse(listed.body).links.self).toBe(
      `${sandbox.url}/v1/alternativeDistributionKeys`,
    );
    const smuggled = await raw(sandbox.url, "//evil.example/v1/alternativeDistributionKeys", {
      authorization,
    });
    expect(smuggled.status).toBe(404);
    expect(smuggled.body).not.toContain("http://evil.example");
  });

  it("answers 413 past 64 KiB, 415 for a body that is not JSON, HEAD as GET, 405 with Allow", async () => {
    const { sandbox, token } = await served();
    const url = `${sandbox.url}/v1/alternativeDistributionKeys`;
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const large = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ data: { padding: "x".repeat(70_000) } }),
    });
    expect(large.status).toBe(413);
    const text = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "text/plain" },
      body: JSON.stringify(createBody(newPublicKey())),
    });
    expect(text.status).toBe(415);
    const head = await fetch(url, { method: "HEAD", headers });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-rate-limit")).toMatch(/^user-hour-lim:/);
    expect(await head.text()).toBe("");
    const put = await fetch(url, { method: "PUT", headers, body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST, HEAD");
    expect(sandbox.keys()).toEqual([]);
  });

  it("answers OPTIONS without a token, and sends CORS headers when asked", async () => {
    const { sandbox } = await served({ cors: true });
    const preflight = await fetch(`${sandbox.url}/v1/alternativeDistributionKeys/some-id`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "DELETE" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, DELETE, HEAD");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const refused = await fetch(`${sandbox.url}/v1/alternativeDistributionKeys`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves a burst of plain requests, without retries, with no connection refused or reset", async () => {
    const { sandbox, token } = await served({ hourlyRequestLimit: 1_000_000 });
    let failures = 0;
    let sent = 0;
    const worker = async () => {
      while (sent < 2_000) {
        sent++;
        const response = await fetch(`${sandbox.url}/v1/alternativeDistributionKeys`, {
          headers: { authorization: `Bearer ${token}` },
        }).catch(() => undefined);
        await response?.arrayBuffer();
        if (response?.status !== 200) failures++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    expect(failures).toBe(0);
  });

  it("reports a busy port as the listen error it is", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as { port: number };
    await expect(startSandbox({ port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    busy.close();
  });
});
