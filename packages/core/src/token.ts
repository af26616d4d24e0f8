import { PemError, toPkcs8Der } from "@asc-kit/pem";
import { CompactSign } from "jose";

/** The audience App Store Connect expects in every token. */
export const appStoreConnectAudience = "appstoreconnect-v1";
/** Apple refuses tokens whose `exp - iat` is over 20 minutes. */
export const maximumTokenLifetimeSeconds = 1200;
/** `iat` is set this far in the past, so a client clock running a little fast is not refused. */
export const issuedAtBackdateSeconds = 60;

/** Options of {@link createTokenProvider}. */
export interface TokenProviderOptions {
  /** The API key's ID, shown beside the key in App Store Connect (the `kid` header). */
  keyId: string;
  /**
   * The issuer ID (a UUID) of a team key; leave it out (or `undefined`, as an unset variable
   * reads) for an individual key (`sub: "user"`).
   */
  issuerId?: string | undefined;
  /** The API key's private key (`.p8`), in any shape `@asc-kit/pem` accepts, SEC1 included. */
  privateKey: string | Uint8Array;
  /** Restricts the token to these requests, e.g. `["GET /v1/apps?filter[platform]=IOS"]`. */
  scope?: readonly string[];
  /** `exp - iat` in seconds, at most 1200. Default 900 (15 minutes). */
  lifetimeSeconds?: number;
  /** A token is replaced this many seconds before it expires. Default 60. */
  refreshMarginSeconds?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Hands out App Store Connect tokens. See {@link createTokenProvider}. */
export interface TokenProvider {
  /** A valid token: the cached one while it has more than the margin left, else a new one. */
  getToken(): Promise<string>;
  /**
   * Drops the cached token if it is `token` (or whatever is cached, without an argument), so
   * the next {@link getToken} signs anew. Used after a 401.
   */
  invalidate(token?: string): void;
  /** False when new tokens cannot be made (a fixed token): retrying a 401 is then pointless. */
  readonly canRefresh: boolean;
}

interface CachedToken {
  token: string;
  /** When to stop handing it out, in ms since the epoch. */
  refreshAt: number;
}

const claimsEncoder = new TextEncoder();
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Signs App Store Connect API tokens (ES256 JWT) with an API key and reuses each one until
 * shortly before it expires, as Apple asks. Concurrent callers share one signing. Every
 * provider has its own cache: two clients never share a token by accident.
 *
 * Header: `alg: ES256`, `kid`, `typ: JWT`. Payload: `iss` (team keys) or `sub: "user"`
 * (individual keys), `aud: "appstoreconnect-v1"`, `iat` back-dated 60 s, `exp` with
 * `exp - iat` at most 1200 s, and `scope` when given.
 *
 * @throws {TypeError} for a missing key ID, an issuer ID that is not a UUID, or a lifetime out
 *   of range; a `PemError` for a key that is not a P-256 private key.
 *
 * @example
 * ```ts
 * import { createTokenProvider } from "@asc-kit/core";
 *
 * const tokens = createTokenProvider({
 *   keyId: "2X9R4HXF34",
 *   issuerId: "57246542-96fe-1a63-e053-0824d011072a",
 *   privateKey: process.env.ASC_PRIVATE_KEY!,
 * });
 * const authorization = `Bearer ${await tokens.getToken()}`;
 * ```
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const settings = validate(options);
  // Converted now, so that a wrong key fails here rather than at the first request.
  const pkcs8 = toPkcs8Der(options.privateKey);
  const now = options.now ?? Date.now;
  let cached: CachedToken | undefined;
  let pending: Promise<CachedToken> | undefined;
  let signingKey: Promise<CryptoKey> | undefined;

  async function sign(): Promise<CachedToken> {
    signingKey ??= crypto.subtle
      .importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
      .catch((error: unknown) => {
        signingKey = undefined;
        throw new PemError(
          "ERR_KEY_CORRUPT",
          "The private key could not be imported for ES256 signing; it is probably damaged. Check it with `asc-kit keys check`.",
          { cause: error },
        );
      });
    const issuedAt = Math.floor(now() / 1000) - issuedAtBackdateSeconds;
    const expiresAt = issuedAt + settings.lifetimeSeconds;
    const claims = {
      ...(settings.issuerId ? { iss: settings.issuerId } : { sub: "user" }),
      aud: appStoreConnectAudience,
      iat: issuedAt,
      exp: expiresAt,
      ...(settings.scope ? { scope: settings.scope } : {}),
    };
    // jose's compact JWS alone: the claims are built here, which keeps the JWT layer (and its
    // share of the bundle) out of every consumer.
    const token = await new CompactSign(claimsEncoder.encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: "ES256", kid: settings.keyId, typ: "JWT" })
      .sign(await signingKey);
    return { token, refreshAt: (expiresAt - settings.refreshMarginSeconds) * 1000 };
  }

  return {
    canRefresh: true,
    async getToken() {
      if (cached && now() < cached.refreshAt) return cached.token;
      if (!pending) {
        pending = sign().then(
          (fresh) => {
            cached = fresh;
            pending = undefined;
            return fresh;
          },
          (error: unknown) => {
            pending = undefined;
            throw error;
          },
        );
      }
      return (await pending).token;
    },
    invalidate(token) {
      if (token === undefined || cached?.token === token) cached = undefined;
    },
  };
}

/**
 * A {@link TokenProvider} over a token made elsewhere: a fixed string, or a function called for
 * each request (it may cache as it likes; after a 401 it is called again).
 *
 * @example
 * ```ts
 * import { tokenProviderFrom } from "@asc-kit/core";
 *
 * const tokens = tokenProviderFrom(async () => (await vault.read("asc-token")).value);
 * ```
 */
export function tokenProviderFrom(token: string | (() => string | Promise<string>)): TokenProvider {
  if (typeof token === "string") {
    if (token.trim() === "") throw new TypeError("token must be a non-empty string.");
    const checked = checkToken(token.trim(), "token");
    return { canRefresh: false, getToken: async () => checked, invalidate() {} };
  }
  if (typeof token !== "function") {
    throw new TypeError("token must be a string or a function that returns one.");
  }
  return {
    canRefresh: true,
    async getToken() {
      const value = await token();
      if (typeof value !== "string" || value.trim() === "") {
        throw new TypeError("The token function must return a non-empty string.");
      }
      return checkToken(value.trim(), "The token function's result");
    },
    invalidate() {},
  };
}

/**
 * A token that cannot go into an `Authorization` header: a line break, a control or a non-ASCII
 * character. Thrown, never reported as a network error; its message never repeats the token.
 *
 * @example
 * ```ts
 * try {
 *   await client.GET("/v1/alternativeDistributionKeys");
 * } catch (error) {
 *   if (error instanceof InvalidTokenError) console.error(error.code, error.message);
 * }
 * ```
 */
export class InvalidTokenError extends TypeError {
  override readonly name = "InvalidTokenError";
  readonly code = "ERR_INVALID_TOKEN";
}

const headerSafeToken = /^[\x21-\x7e]+$/;

/** Returns the token when every character may go into a header; throws otherwise. */
export function checkToken(token: string, what: string): string {
  if (headerSafeToken.test(token)) return token;
  const position = token.search(/[^\x21-\x7e]/);
  throw new InvalidTokenError(
    `${what} has a character that cannot be sent in an HTTP header (a line break, space, control or non-ASCII character at position ${position + 1} of ${token.length}). Pass the token alone, without a "Bearer " prefix or a trailing line.`,
  );
}

function validate(options: TokenProviderOptions) {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createTokenProvider needs an options object with keyId and privateKey.");
  }
  const { keyId, issuerId, privateKey, scope } = options;
  if (typeof keyId !== "string" || keyId.trim() === "") {
    throw new TypeError(
      'keyId must be the API key\'s ID, as shown in App Store Connect (for example "2X9R4HXF34").',
    );
  }
  if (issuerId !== undefined && (typeof issuerId !== "string" || !uuid.test(issuerId))) {
    throw new TypeError(
      "issuerId must be the team's issuer ID, a UUID from App Store Connect's Integrations page; leave it out for an individual key.",
    );
  }
  if (typeof privateKey !== "string" && !(privateKey instanceof Uint8Array)) {
    throw new TypeError(
      "privateKey must be the API key's private key (.p8 contents) as a string or bytes.",
    );
  }
  if (
    scope !== undefined &&
    (!Array.isArray(scope) || scope.some((entry) => typeof entry !== "string" || entry === ""))
  ) {
    throw new TypeError('scope must be an array of non-empty strings such as "GET /v1/apps".');
  }
  const lifetimeSeconds = options.lifetimeSeconds ?? 900;
  const refreshMarginSeconds = options.refreshMarginSeconds ?? 60;
  if (!Number.isInteger(refreshMarginSeconds) || refreshMarginSeconds < 0) {
    throw new TypeError("refreshMarginSeconds must be a whole number of seconds, 0 or more.");
  }
  const shortest = issuedAtBackdateSeconds + refreshMarginSeconds + 1;
  if (
    !Number.isInteger(lifetimeSeconds) ||
    lifetimeSeconds < shortest ||
    lifetimeSeconds > maximumTokenLifetimeSeconds
  ) {
    throw new TypeError(
      `lifetimeSeconds must be a whole number from ${shortest} to ${maximumTokenLifetimeSeconds}: Apple refuses tokens that live longer than 20 minutes, and iat is back-dated ${issuedAtBackdateSeconds} s.`,
    );
  }
  return {
    keyId,
    issuerId,
    scope: scope ? [...scope] : undefined,
    lifetimeSeconds,
    refreshMarginSeconds,
  };
}
