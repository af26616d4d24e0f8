import { PemError, toPkcs8Pem, toPublicKeyPem } from "@asc-kit/pem";
import {
  SignJWT,
  decodeProtectedHeader,
  errors as joseErrors,
  importPKCS8,
  importSPKI,
  jwtVerify,
} from "jose";

/** The audience MarketplaceKit expects in an install verification token. */
export const installTokenAudience = "AppleDownloadVerification-v1";

/** `download` for a first install, `redownload` for a reinstall. */
export type DownloadType = "download" | "redownload";

/** The claims of an install verification token. */
export interface InstallTokenClaims {
  /** The Apple ID of the distributing app or marketplace. */
  iss: string;
  iat: number;
  exp: number;
  aud: typeof installTokenAudience;
  /** The bundle ID of the app being installed. */
  bid: string;
  dtype: DownloadType;
  /** A UUID, fresh for every token. */
  nonce: string;
  iid?: string;
  vid?: string;
}

/** What changes from one token to the next. */
export interface InstallTokenRequest {
  bundleId: string;
  downloadType: DownloadType;
  /** A UUID; a fresh one by default. */
  nonce?: string;
  /** Sent as `iid` when given. */
  installId?: string;
  /** Sent as `vid` when given. */
  versionId?: string;
  /** The clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** What stays the same for a distributor: the key and who signs. */
export interface InstallTokenSignerOptions {
  /** The alternative distribution key's private key, in any shape `@asc-kit/pem` accepts. */
  privateKey: string | Uint8Array;
  /** The alternative distribution key's id in App Store Connect (the `kid` header). */
  keyId: string;
  /** The Apple ID (digits) of the distributing app or marketplace (the `iss` claim). */
  appleItemId: string;
  /** `exp - iat` in seconds, 1 to 3600. Default 300. */
  lifetimeSeconds?: number;
}

export type SignInstallVerificationTokenOptions = InstallTokenSignerOptions & InstallTokenRequest;

/** A signer that imports the key once and signs many tokens with it. */
export interface InstallTokenSigner {
  sign(request: InstallTokenRequest): Promise<string>;
}

/** Which check refused a token in {@link verifyInstallVerificationToken}. */
export type InstallTokenErrorCode =
  | "ERR_TOKEN_MALFORMED"
  | "ERR_TOKEN_HEADER"
  | "ERR_TOKEN_SIGNATURE"
  | "ERR_TOKEN_AUDIENCE"
  | "ERR_TOKEN_EXPIRED"
  | "ERR_TOKEN_NOT_YET_VALID"
  | "ERR_TOKEN_LIFETIME"
  | "ERR_TOKEN_CLAIM";

/**
 * Why a token was refused. `code` names the failed check; for `ERR_TOKEN_CLAIM`, `claim` names
 * the claim. Messages never contain the token.
 */
export class InstallTokenError extends Error {
  readonly code: InstallTokenErrorCode;
  readonly claim: string | undefined;
  constructor(
    code: InstallTokenErrorCode,
    message: string,
    options?: { cause?: unknown; claim?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InstallTokenError";
    this.code = code;
    this.claim = options?.claim;
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const bundleIdPattern = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
const maximumLifetimeSeconds = 3600;

/**
 * Makes a signer for install verification tokens that imports the private key once: importing
 * is the slow part, so a download endpoint should create one signer and reuse it.
 *
 * @throws {TypeError} for a missing key id, an Apple ID that is not digits, or a lifetime out of
 *   range; a `PemError` for a key that is not an EC P-256 private key.
 *
 * @example
 * ```ts
 * import { createInstallTokenSigner } from "@asc-kit/install-token";
 *
 * const signer = createInstallTokenSigner({ privateKey, keyId, appleItemId: "6476788026" });
 * const token = await signer.sign({ bundleId: "com.example.app", downloadType: "download" });
 * ```
 */
export function createInstallTokenSigner(options: InstallTokenSignerOptions): InstallTokenSigner {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createInstallTokenSigner needs { privateKey, keyId, appleItemId }.");
  }
  const { keyId, appleItemId } = options;
  if (typeof keyId !== "string" || keyId.trim() === "") {
    throw new TypeError(
      "keyId must be the alternative distribution key's id from App Store Connect.",
    );
  }
  if (typeof appleItemId !== "string" || !/^\d+$/.test(appleItemId)) {
    throw new TypeError(
      'appleItemId must be the Apple ID of the distributing app or marketplace, a string of digits such as "6476788026".',
    );
  }
  const lifetimeSeconds = options.lifetimeSeconds ?? 300;
  if (
    !Number.isInteger(lifetimeSeconds) ||
    lifetimeSeconds < 1 ||
    lifetimeSeconds > maximumLifetimeSeconds
  ) {
    throw new TypeError(
      `lifetimeSeconds must be a whole number from 1 to ${maximumLifetimeSeconds}.`,
    );
  }
  const pkcs8 = toPkcs8Pem(options.privateKey);
  let key: Promise<CryptoKey> | undefined;
  return {
    async sign(request) {
      const claims = claimsFor(request);
      key ??= importPKCS8(pkcs8, "ES256").catch((error: unknown) => {
        key = undefined;
        throw new PemError(
          "ERR_KEY_CORRUPT",
          "The private key could not be imported for ES256 signing; it is probably damaged.",
          { cause: error },
        );
      });
      const issuedAt = Math.floor((request.now ?? Date.now)() / 1000);
      return new SignJWT({
        bid: claims.bid,
        dtype: claims.dtype,
        nonce: claims.nonce,
        ...claims.optional,
      })
        .setProtectedHeader({ alg: "ES256", kid: keyId, typ: "JWT" })
        .setIssuer(appleItemId)
        .setAudience(installTokenAudience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + lifetimeSeconds)
        .sign(await key);
    },
  };
}

/**
 * Signs one install verification token: header `alg: ES256`, `kid`, `typ: JWT`; claims `iss`
 * (the Apple ID of the app or marketplace), `iat`, `exp`, `aud: AppleDownloadVerification-v1`,
 * `bid`, `dtype`, `nonce`, and `iid` / `vid` when given. For many tokens, use
 * {@link createInstallTokenSigner}, which imports the key once.
 *
 * @throws {TypeError} for bad arguments (an empty bundle ID, an unknown download type, a nonce
 *   that is not a UUID, a lifetime out of range), before any signing.
 *
 * @example
 * ```ts
 * import { signInstallVerificationToken } from "@asc-kit/install-token";
 *
 * const token = await signInstallVerificationToken({
 *   privateKey, keyId, appleItemId: "6476788026", bundleId: "com.example.app", downloadType: "download",
 * });
 * ```
 */
export async function signInstallVerificationToken(
  options: SignInstallVerificationTokenOptions,
): Promise<string> {
  const { privateKey, keyId, appleItemId, lifetimeSeconds, ...request } = options;
  claimsFor(request);
  return createInstallTokenSigner({
    privateKey,
    keyId,
    appleItemId,
    ...(lifetimeSeconds === undefined ? {} : { lifetimeSeconds }),
  }).sign(request);
}

/** What {@link verifyInstallVerificationToken} may check beyond signature, header, audience and lifetime. */
export interface InstallTokenExpectations {
  keyId?: string;
  appleItemId?: string;
  bundleId?: string;
  downloadType?: DownloadType;
  nonce?: string;
  installId?: string;
  versionId?: string;
  /** Longest `exp - iat` accepted. Default 3600. */
  maxLifetimeSeconds?: number;
  /** The clock in ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * Verifies an install verification token, for a distributor's own tests and monitoring: the
 * ES256 signature against the public key, the header, the audience, the lifetime, and the
 * expected claims when given. Returns the claims, or throws an {@link InstallTokenError} whose
 * `code` names the check that failed.
 *
 * @example
 * ```ts
 * import { verifyInstallVerificationToken } from "@asc-kit/install-token";
 *
 * const claims = await verifyInstallVerificationToken(token, publicKeyPem, { bundleId: "com.example.app" });
 * ```
 */
export async function verifyInstallVerificationToken(
  token: string,
  publicKey: string | Uint8Array,
  expectations: InstallTokenExpectations = {},
): Promise<InstallTokenClaims> {
  if (typeof token !== "string") throw new TypeError("token must be a compact JWT string.");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw new InstallTokenError("ERR_TOKEN_MALFORMED", "The token is not a compact JWT.", {
      cause: error,
    });
  }
  if (header.alg !== "ES256" || header.typ !== "JWT" || typeof header.kid !== "string") {
    throw new InstallTokenError(
      "ERR_TOKEN_HEADER",
      "The token's header must be { alg: ES256, kid, typ: JWT }.",
    );
  }
  if (expectations.keyId !== undefined && header.kid !== expectations.keyId) {
    throw new InstallTokenError(
      "ERR_TOKEN_HEADER",
      `The token's kid is not the expected key id ${expectations.keyId}.`,
    );
  }
  const key = await importSPKI(await toPublicKeyPem(publicKey), "ES256");
  const now = (expectations.now ?? Date.now)();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["ES256"],
      currentDate: new Date(now),
    }));
  } catch (error) {
    throw fromJose(error);
  }
  if (payload.aud !== installTokenAudience) {
    throw new InstallTokenError(
      "ERR_TOKEN_AUDIENCE",
      `The token's aud must be "${installTokenAudience}".`,
    );
  }
  const { iat, exp } = payload;
  if (typeof iat !== "number" || typeof exp !== "number") {
    throw new InstallTokenError(
      "ERR_TOKEN_LIFETIME",
      "The token must have numeric iat and exp claims.",
    );
  }
  if (exp - iat > (expectations.maxLifetimeSeconds ?? maximumLifetimeSeconds) || exp <= iat) {
    throw new InstallTokenError(
      "ERR_TOKEN_LIFETIME",
      `The token's lifetime (exp - iat = ${exp - iat} s) is out of range.`,
    );
  }
  if (iat > Math.floor(now / 1000) + 60) {
    throw new InstallTokenError("ERR_TOKEN_NOT_YET_VALID", "The token's iat is in the future.");
  }
  const claims = payload as unknown as InstallTokenClaims;
  const expect = (
    claim: keyof InstallTokenClaims,
    expected: string | undefined,
    valid: boolean,
  ) => {
    if (!valid || (expected !== undefined && claims[claim] !== expected)) {
      // Claims are ids and names, not secrets: both sides shown, quoted and cut short.
      const shown = (value: unknown) => JSON.stringify(String(value).slice(0, 100));
      throw new InstallTokenError(
        "ERR_TOKEN_CLAIM",
        valid
          ? `The token's ${claim} claim is ${shown(claims[claim])} where ${shown(expected)} was expected.`
          : `The token's ${claim} claim is missing or malformed.`,
        {
          claim,
        },
      );
    }
  };
  expect(
    "iss",
    expectations.appleItemId,
    typeof claims.iss === "string" && /^\d+$/.test(claims.iss),
  );
  expect("bid", expectations.bundleId, typeof claims.bid === "string" && claims.bid !== "");
  expect(
    "dtype",
    expectations.downloadType,
    claims.dtype === "download" || claims.dtype === "redownload",
  );
  expect(
    "nonce",
    expectations.nonce,
    typeof claims.nonce === "string" && uuidPattern.test(claims.nonce),
  );
  expect("iid", expectations.installId, claims.iid === undefined || typeof claims.iid === "string");
  expect("vid", expectations.versionId, claims.vid === undefined || typeof claims.vid === "string");
  return claims;
}

function claimsFor(request: InstallTokenRequest) {
  if (typeof request !== "object" || request === null)
    throw new TypeError("sign needs { bundleId, downloadType }.");
  const { bundleId, downloadType, nonce = crypto.randomUUID(), installId, versionId } = request;
  if (typeof bundleId !== "string" || !bundleIdPattern.test(bundleId)) {
    throw new TypeError('bundleId must be the app\'s bundle ID, such as "com.example.app".');
  }
  if (downloadType !== "download" && downloadType !== "redownload") {
    throw new TypeError('downloadType must be "download" or "redownload".');
  }
  if (typeof nonce !== "string" || !uuidPattern.test(nonce))
    throw new TypeError("nonce must be a UUID.");
  for (const [name, value] of [
    ["installId", installId],
    ["versionId", versionId],
  ] as const) {
    if (value !== undefined && (typeof value !== "string" || value === ""))
      throw new TypeError(`${name} must be a non-empty string when given.`);
  }
  return {
    bid: bundleId,
    dtype: downloadType,
    nonce,
    optional: {
      ...(installId === undefined ? {} : { iid: installId }),
      ...(versionId === undefined ? {} : { vid: versionId }),
    },
  };
}

function fromJose(error: unknown): InstallTokenError {
  if (error instanceof joseErrors.JWTExpired)
    return new InstallTokenError("ERR_TOKEN_EXPIRED", "The token has expired.", { cause: error });
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new InstallTokenError(
      "ERR_TOKEN_SIGNATURE",
      "The token's signature does not verify with this public key.",
      { cause: error },
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "iat") {
    return new InstallTokenError("ERR_TOKEN_NOT_YET_VALID", "The token's iat is in the future.", {
      cause: error,
    });
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "nbf") {
    return new InstallTokenError("ERR_TOKEN_NOT_YET_VALID", "The token is not valid yet (nbf).", {
      cause: error,
    });
  }
  return new InstallTokenError(
    "ERR_TOKEN_MALFORMED",
    "The token could not be read as a signed JWT.",
    { cause: error },
  );
}
