import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import fc from "fast-check";
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  InstallTokenError,
  createInstallTokenSigner,
  signInstallVerificationToken,
  verifyInstallVerificationToken,
} from "./index.js";

const numRuns = Number(process.env.ASC_KIT_FUZZ_RUNS ?? 50);
const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
const privateKey = pair.privateKey.export({ type: "sec1", format: "pem" }).toString();
const publicKey = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const keyId = "52c5cb04-1163-4a30-ad4f-a3433cd6a4f6";
const appleItemId = "6476788026";
const nonce = "3f7b4c9e-2d1a-4e8b-9c6f-0a1b2c3d4e5f";
const at = Date.UTC(2026, 0, 15, 12);
const base = {
  privateKey,
  keyId,
  appleItemId,
  bundleId: "com.example.app",
  downloadType: "download" as const,
  now: () => at,
};

async function refusal(promise: Promise<unknown>): Promise<InstallTokenError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InstallTokenError);
  return error as InstallTokenError;
}

describe("signInstallVerificationToken", () => {
  it("puts exactly the header and claims MarketplaceKit expects", async () => {
    const token = await signInstallVerificationToken({
      ...base,
      nonce,
      installId: "install-1",
      versionId: "42",
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: keyId, typ: "JWT" });
    expect(decodeJwt(token)).toEqual({
      iss: appleItemId,
      iat: at / 1000,
      exp: at / 1000 + 300,
      aud: "AppleDownloadVerification-v1",
      bid: "com.example.app",
      dtype: "download",
      nonce,
      iid: "install-1",
      vid: "42",
    });
  });

  it("makes a fresh UUID nonce unless given, and leaves iid and vid out unless given", async () => {
    const [first, second] = await Promise.all([
      signInstallVerificationToken(base),
      signInstallVerificationToken({ ...base, downloadType: "redownload" }),
    ]);
    const claims = [decodeJwt(first), decodeJwt(second)];
    expect(claims[0]!.nonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims[0]!.nonce).not.toBe(claims[1]!.nonce);
    expect(claims[0]).not.toHaveProperty("iid");
    expect(claims[1]!.dtype).toBe("redownload");
  });

  it("verifies with the public key through jose and through node:crypto", async () => {
    const token = await signInstallVerificationToken({ ...base, now: Date.now });
    await jwtVerify(token, await importSPKI(publicKey, "ES256"), {
      audience: "AppleDownloadVerification-v1",
    });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    expect(
      verify(
        "sha256",
        Buffer.from(`${header}.${payload}`),
        { key: createPublicKey(publicKey), dsaEncoding: "ieee-p1363" },
        Buffer.from(signature, "base64url"),
      ),
    ).toBe(true);
  });

  it("refuses bad arguments with a TypeError before signing", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ bundleId: "" }, /bundleId/],
      [{ bundleId: "com example" }, /bundleId/],
      [{ downloadType: "install" }, /downloadType/],
      [{ nonce: "not-a-uuid" }, /nonce must be a UUID/],
      [{ lifetimeSeconds: 0 }, /lifetimeSeconds/],
      [{ lifetimeSeconds: 3601 }, /lifetimeSeconds/],
      [{ appleItemId: "com.example" }, /appleItemId/],
      [{ keyId: "" }, /keyId/],
      [{ installId: "" }, /installId/],
    ];
    for (const [change, message] of cases) {
      await expect(
        signInstallVerificationToken({ ...base, ...change } as typeof base),
      ).rejects.toThrow(message);
    }
    await expect(
      signInstallVerificationToken({ ...base, privateKey: publicKey }),
    ).rejects.toMatchObject({ name: "PemError" });
  });
});

describe("verifyInstallVerificationToken", () => {
  it("returns the claims and checks the expected ones", async () => {
    const token = await signInstallVerificationToken({ ...base, nonce, now: Date.now });
    const claims = await verifyInstallVerificationToken(token, publicKey, {
      keyId,
      appleItemId,
      bundleId: "com.example.app",
      downloadType: "download",
      nonce,
    });
    expect(claims.bid).toBe("com.example.app");
    const wrongBundle = await refusal(
      verifyInstallVerificationToken(token, publicKey, { bundleId: "com.other" }),
    );
    expect([wrongBundle.code, wrongBundle.claim, wrongBundle.message]).toEqual([
      "ERR_TOKEN_CLAIM",
      "bid",
      `The token's bid claim is "com.example.app" where "com.other" was expected.`,
    ]);
    expect(
      (await refusal(verifyInstallVerificationToken(token, publicKey, { keyId: "other" }))).code,
    ).toBe("ERR_TOKEN_HEADER");
  });

  it("refuses tampered tokens, wrong audiences, expired tokens and other keys, each with its own message", async () => {
    const token = await signInstallVerificationToken({ ...base, now: Date.now });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, bid: "com.evil" })).toString("base64url")}.${signature}`;
    const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const cases: Array<[() => Promise<unknown>, string, string]> = [
      [
        () => verifyInstallVerificationToken(tampered, publicKey),
        "ERR_TOKEN_SIGNATURE",
        "The token's signature does not verify with this public key.",
      ],
      [
        async () =>
          verifyInstallVerificationToken(
            await signInstallVerificationToken({ ...base, privateKey: otherKey, now: Date.now }),
            publicKey,
          ),
        "ERR_TOKEN_SIGNATURE",
        "The token's signature does not verify with this public key.",
      ],
      [
        async () =>
          verifyInstallVerificationToken(await signInstallVerificationToken(base), publicKey),
        "ERR_TOKEN_EXPIRED",
        "The token has expired.",
      ],
      [
        () => verifyInstallVerificationToken("not.a.token", publicKey),
        "ERR_TOKEN_MALFORMED",
        "The token is not a compact JWT.",
      ],
      [
        async () =>
          verifyInstallVerificationToken(
            await signInstallVerificationToken({ ...base, now: () => Date.now() + 3_600_000 }),
            publicKey,
          ),
        "ERR_TOKEN_NOT_YET_VALID",
        "The token's iat is in the future.",
      ],
    ];
    for (const [attempt, code, message] of cases) {
      const error = await refusal(attempt());
      expect([error.code, error.message]).toEqual([code, message]);
    }
    const { SignJWT, importPKCS8 } = await import("jose");
    const wrongAudience = await new SignJWT({ ...claims, aud: "appstoreconnect-v1" })
      .setProtectedHeader({ alg: "ES256", kid: keyId, typ: "JWT" })
      .sign(
        await importPKCS8(
          pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          "ES256",
        ),
      );
    const audienceError = await refusal(verifyInstallVerificationToken(wrongAudience, publicKey));
    expect([audienceError.code, audienceError.message]).toEqual([
      "ERR_TOKEN_AUDIENCE",
      'The token\'s aud must be "AppleDownloadVerification-v1".',
    ]);
  });
});

describe("createInstallTokenSigner", () => {
  it("signs many tokens with one imported key, each verifying", async () => {
    const signer = createInstallTokenSigner({ privateKey, keyId, appleItemId });
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () =>
        signer.sign({ bundleId: "com.example.app", downloadType: "download" }),
      ),
    );
    expect(new Set(tokens.map((token) => decodeJwt(token).nonce)).size).toBe(20);
    for (const token of tokens) await verifyInstallVerificationToken(token, publicKey);
  });
});

describe("properties", () => {
  it("any valid arguments give a token that verifies with the expected claims", async () => {
    const signer = createInstallTokenSigner({
      privateKey,
      keyId,
      appleItemId,
      lifetimeSeconds: 600,
    });
    const bundleId = fc
      .array(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join("."));
    await fc.assert(
      fc.asyncProperty(
        bundleId,
        fc.constantFrom("download" as const, "redownload" as const),
        fc.uuid(),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        async (bundle, downloadType, uuid, installId, versionId) => {
          const token = await signer.sign({
            bundleId: bundle,
            downloadType,
            nonce: uuid,
            ...(installId === undefined ? {} : { installId }),
            ...(versionId === undefined ? {} : { versionId }),
          });
          const claims = await verifyInstallVerificationToken(token, publicKey, {
            bundleId: bundle,
            downloadType,
            nonce: uuid,
            ...(installId === undefined ? {} : { installId }),
            ...(versionId === undefined ? {} : { versionId }),
          });
          expect(claims.exp - claims.iat).toBe(600);
        },
      ),
      { numRuns },
    );
  });
});
