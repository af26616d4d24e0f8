import { createPublicKey, generateKeyPairSync, verify as verifySignature } from "node:crypto";
import { PemError } from "@asc-kit/pem";
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createTokenProvider, tokenProviderFrom } from "./index.js";

const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const sec1Key = pair.privateKey.export({ type: "sec1", format: "pem" }).toString();
const publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const keyId = "2X9R4HXF34";
const issuerId = "57246542-96fe-1a63-e053-0824d011072a";

function clock(startMs = Date.UTC(2026, 10, 27, 12)) {
  let current = startMs;
  return { now: () => current, advance: (seconds: number) => (current += seconds * 1000) };
}

/** Verifies an ES256 JWT with node:crypto alone, without jose. */
function verifiedWithNodeCrypto(token: string): boolean {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  return verifySignature(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key: createPublicKey(publicKeyPem), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
}

describe("createTokenProvider", () => {
  it("signs team tokens with the header and claims Apple asks for", async () => {
    const time = clock();
    const token = await createTokenProvider({
      keyId,
      issuerId,
      privateKey,
      now: time.now,
    }).getToken();
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: keyId, typ: "JWT" });
    const claims = decodeJwt(token);
    const nowSeconds = time.now() / 1000;
    expect(claims).toEqual({
      iss: issuerId,
      aud: "appstoreconnect-v1",
      iat: nowSeconds - 60,
      exp: nowSeconds - 60 + 900,
    });
    expect(verifiedWithNodeCrypto(token)).toBe(true);
    const key = await importSPKI(publicKeyPem, "ES256");
    await expect(
      jwtVerify(token, key, { audience: "appstoreconnect-v1", currentDate: new Date(time.now()) }),
    ).resolves.toBeDefined();
  });

  it("signs individual-key tokens with sub: user and no iss, and adds scope when given", async () => {
    const scope = ["GET /v1/alternativeDistributionKeys"];
    const token = await createTokenProvider({ keyId, privateKey, scope }).getToken();
    const claims = decodeJwt(token);
    expect(claims.sub).toBe("user");
    expect(claims).not.toHaveProperty("iss");
    expect(claims.scope).toEqual(scope);
  });

  it("keeps exp - iat at most 1200 and iat not after now, for every allowed lifetime", async () => {
    for (const lifetimeSeconds of [121, 600, 900, 1200]) {
      const time = clock();
      const claims = decodeJwt(
        await createTokenProvider({
          keyId,
          issuerId,
          privateKey,
          lifetimeSeconds,
          now: time.now,
        }).getToken(),
      );
      expect(claims.exp! - claims.iat!).toBe(lifetimeSeconds);
      expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(1200);
      expect(claims.iat!).toBeLessThanOrEqual(time.now() / 1000);
    }
  });

  it("reuses a token until the refresh margin, then signs a new one", async () => {
    const time = clock();
    const tokens = createTokenProvider({ keyId, issuerId, privateKey, now: time.now });
    const first = await tokens.getToken();
    // Valid until iat + 900 = now + 840; refreshed 60 s before: at now + 780.
    time.advance(779);
    expect(await tokens.getToken()).toBe(first);
    time.advance(1);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(decodeJwt(second).iat).toBe(decodeJwt(first).iat! + 780);
  });

  it("signs once for 500 concurrent callers", async () => {
    const tokens = createTokenProvider({ keyId, issuerId, privateKey });
    const all = await Promise.all(Array.from({ length: 500 }, () => tokens.getToken()));
    expect(new Set(all).size).toBe(1);
  });

  it("gives each provider its own token", async () => {
    const [first, second] = await Promise.all([
      createTokenProvider({ keyId, issuerId, privateKey }).getToken(),
      createTokenProvider({ keyId, issuerId, privateKey }).getToken(),
    ]);
    expect(first).not.toBe(second);
  });

  it("drops only the refused token on invalidate", async () => {
    const tokens = createTokenProvider({ keyId, issuerId, privateKey });
    const first = await tokens.getToken();
    tokens.invalidate("some older token");
    expect(await tokens.getToken()).toBe(first);
    tokens.invalidate(first);
    expect(await tokens.getToken()).not.toBe(first);
  });

  it("accepts SEC1 keys and escaped PEM", async () => {
    const token = await createTokenProvider({
      keyId,
      issuerId,
      privateKey: sec1Key.replace(/\n/g, "\\n"),
    }).getToken();
    expect(verifiedWithNodeCrypto(token)).toBe(true);
  });

  it("refuses bad options with a TypeError and wrong keys with a PemError, before any request", () => {
    expect(() => createTokenProvider({ keyId: "", issuerId, privateKey })).toThrow(TypeError);
    expect(() => createTokenProvider({ keyId, issuerId: "not-a-uuid", privateKey })).toThrow(
      /issuer ID, a UUID/,
    );
    expect(() =>
      createTokenProvider({ keyId, issuerId, privateKey, lifetimeSeconds: 1201 }),
    ).toThrow(/20 minutes/);
    expect(() =>
      createTokenProvider({ keyId, issuerId, privateKey, lifetimeSeconds: 100 }),
    ).toThrow(/from 121 to 1200/);
    expect(() => createTokenProvider({ keyId, issuerId, privateKey, scope: [""] })).toThrow(
      TypeError,
    );
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    expect(() => createTokenProvider({ keyId, issuerId, privateKey: rsa })).toThrow(PemError);
    expect(() => createTokenProvider({ keyId, issuerId, privateKey: publicKeyPem })).toThrow(
      /public key where a private key is needed/,
    );
  });
});

describe("tokenProviderFrom", () => {
  it("serves a fixed token, and calls a function each time", async () => {
    expect(await tokenProviderFrom("abc").getToken()).toBe("abc");
    expect(tokenProviderFrom("abc").canRefresh).toBe(false);
    let calls = 0;
    const tokens = tokenProviderFrom(async () => `token-${++calls}`);
    expect(await tokens.getToken()).toBe("token-1");
    expect(await tokens.getToken()).toBe("token-2");
    await expect(tokenProviderFrom(() => "").getToken()).rejects.toThrow(TypeError);
    expect(() => tokenProviderFrom("")).toThrow(TypeError);
  });
});
