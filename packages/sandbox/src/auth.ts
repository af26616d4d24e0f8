import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import type { RegisteredApiKey } from "./state.js";

/** How far in the future `iat` may be before a token is refused, in seconds. */
export const allowedClockSkewSeconds = 30;

export type AuthResult = { ok: true; apiKey: RegisteredApiKey } | { ok: false; detail: string };

/**
 * Checks a bearer token the way App Store Connect does, and says which rule failed: a known
 * `kid`, ES256, `aud: appstoreconnect-v1`, `iss` for team keys or `sub: "user"` for individual
 * keys, `exp - iat` at most 1200 s, `iat` not in the future, not expired, a valid signature.
 */
export async function authenticate(
  authorization: string | undefined,
  apiKeys: readonly RegisteredApiKey[],
  nowSeconds: number,
  importKey: (apiKey: RegisteredApiKey) => Promise<CryptoKey>,
): Promise<AuthResult> {
  const token = authorization?.match(/^Bearer (\S+)$/)?.[1];
  if (!token) return { ok: false, detail: "The Authorization header must be 'Bearer <JWT>'." };
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return { ok: false, detail: "The bearer token is not a well-formed JWT." };
  }
  if (header.alg !== "ES256") return { ok: false, detail: "The token must be signed with ES256." };
  const apiKey = apiKeys.find((candidate) => candidate.keyId === header.kid);
  if (!apiKey) return { ok: false, detail: "The token's kid does not name a known API key." };
  if (claims.aud !== "appstoreconnect-v1")
    return { ok: false, detail: "The token's aud must be 'appstoreconnect-v1'." };
  if (apiKey.issuerId !== undefined && claims.iss !== apiKey.issuerId) {
    return { ok: false, detail: "The token's iss must be the issuer ID of this team key." };
  }
  if (apiKey.issuerId === undefined && (claims.sub !== "user" || claims.iss !== undefined)) {
    return { ok: false, detail: "An individual key's token must have sub 'user' and no iss." };
  }
  if (typeof claims.iat !== "number" || typeof claims.exp !== "number") {
    return { ok: false, detail: "The token must have numeric iat and exp claims." };
  }
  if (claims.exp - claims.iat > 1200)
    return { ok: false, detail: "The token lives longer than 20 minutes (exp - iat > 1200)." };
  if (claims.iat > nowSeconds + allowedClockSkewSeconds) {
    return { ok: false, detail: "The token's iat is in the future; check the clock." };
  }
  if (claims.exp <= nowSeconds) return { ok: false, detail: "The token has expired." };
  try {
    await jwtVerify(token, await importKey(apiKey), {
      algorithms: ["ES256"],
      currentDate: new Date(nowSeconds * 1000),
      clockTolerance: allowedClockSkewSeconds,
    });
  } catch {
    return { ok: false, detail: "The token's signature does not verify with this API key." };
  }
  return { ok: true, apiKey };
}
