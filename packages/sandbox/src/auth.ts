import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import type { RegisteredApiKey } from "./state.js";

/** How far in the future `iat` may be before a token is refused, in seconds. */
export const allowedClockSkewSeconds = 30;

/** The longest token life Apple accepts for these resources, in seconds. */
const maximumLifetimeSeconds = 1200;

export type AuthResult = { ok: true; apiKey: RegisteredApiKey } | { ok: false; detail: string };

/** How strictly tokens are read; see the README's "Authentication". */
export interface AuthRules {
  /** Refuse a token without `iat`, and one without `typ: "JWT"`. Default false. */
  strictTokens?: boolean;
}

/**
 * Checks a bearer token the way App Store Connect does, and says which rule failed: a known
 * `kid`, ES256, `aud: appstoreconnect-v1`, `iss` for team keys or `sub: "user"` for individual
 * keys, a life of at most 1200 s, `iat` not in the future, not expired, a `scope` that covers the
 * request, a valid signature.
 */
export async function authenticate(
  authorization: string | null,
  request: { method: string; url: URL },
  apiKeys: readonly RegisteredApiKey[],
  nowSeconds: number,
  importKey: (apiKey: RegisteredApiKey) => Promise<CryptoKey>,
  rules: AuthRules = {},
): Promise<AuthResult> {
  // The scheme name is case-insensitive (RFC 7235).
  const token = authorization?.match(/^bearer +(\S+)$/i)?.[1];
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
  if (header.typ === undefined ? rules.strictTokens : header.typ.toUpperCase() !== "JWT") {
    return { ok: false, detail: "The token's typ header must be 'JWT'." };
  }
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
  const lifetime = checkLifetime(claims, nowSeconds, rules);
  if (lifetime) return { ok: false, detail: lifetime };
  const scope = checkScope(claims.scope, request);
  if (scope) return { ok: false, detail: scope };
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

/**
 * Apple measures a token's life as `exp - iat`. Clients that sign without `iat` are used against
 * the real API, so a token without one is measured from now instead, unless `strictTokens`.
 */
function checkLifetime(
  claims: { iat?: unknown; exp?: unknown },
  nowSeconds: number,
  rules: AuthRules,
): string | undefined {
  if (typeof claims.exp !== "number") return "The token must have a numeric exp claim.";
  if (claims.iat === undefined) {
    if (rules.strictTokens) return "The token must have a numeric iat claim.";
    if (claims.exp - nowSeconds > maximumLifetimeSeconds)
      return "The token has no iat and expires more than 20 minutes from now.";
  } else {
    if (typeof claims.iat !== "number") return "The token's iat must be a number.";
    if (claims.exp - claims.iat > maximumLifetimeSeconds)
      return "The token lives longer than 20 minutes (exp - iat > 1200).";
    if (claims.iat > nowSeconds + allowedClockSkewSeconds)
      return "The token's iat is in the future; check the clock.";
  }
  if (claims.exp <= nowSeconds) return "The token has expired.";
  return undefined;
}

/**
 * A `scope` claim limits a token to the requests it lists, such as
 * `GET /v1/apps?filter[platform]=IOS`: the method and path must be equal, and every query
 * parameter the entry names must have that value in the request.
 */
function checkScope(scope: unknown, request: { method: string; url: URL }): string | undefined {
  if (scope === undefined) return undefined;
  if (!Array.isArray(scope) || !scope.every((entry) => typeof entry === "string")) {
    return "The token's scope must be an array of strings such as 'GET /v1/apps'.";
  }
  const method = request.method === "HEAD" ? "GET" : request.method;
  const path = request.url.pathname.replace(/\/+$/, "");
  const covered = scope.some((entry: string) => {
    const [entryMethod, target] = entry.split(" ", 2);
    if (entryMethod?.toUpperCase() !== method || target === undefined) return false;
    const wanted = new URL(target, request.url);
    if (wanted.pathname.replace(/\/+$/, "") !== path) return false;
    return [...wanted.searchParams].every(
      ([name, value]) => request.url.searchParams.get(name) === value,
    );
  });
  return covered ? undefined : `The token's scope does not include ${method} ${path}.`;
}
