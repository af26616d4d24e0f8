import { SignJWT, errors, jwtVerify } from "jose";
import type { Authentication } from "./handler.js";

/** Signs and checks the bearer tokens of {@link accountTokens}. */
export interface AccountTokens {
  /** A bearer token for `account`, valid for `lifetimeSeconds` (default 86,400). */
  issue(account: string, lifetimeSeconds?: number): Promise<string>;
  /** The handler's `authenticate`: no `Authorization` is missing, a bad or expired token invalid. */
  authenticate(request: Request): Promise<Authentication>;
}

const audience = "asc-kit-distribution";
const bearer = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * Bearer tokens for accounts, signed with a secret of yours (HMAC-SHA256, expiring): what a
 * trial server or a script authenticates with until your own sign-in exists. One `Authorization`
 * header with one `Bearer` token; anything else is invalid, and no header at all is missing.
 *
 * @example
 * ```ts
 * import { accountTokens } from "@asc-kit/distribution";
 *
 * const tokens = accountTokens(crypto.getRandomValues(new Uint8Array(32)));
 * const token = await tokens.issue("someone@example.com", 3600);
 * ```
 */
export function accountTokens(secret: Uint8Array): AccountTokens {
  if (!(secret instanceof Uint8Array) || secret.byteLength < 32) {
    throw new TypeError("accountTokens needs a secret of at least 32 random bytes.");
  }
  // Imported once: importing it for every token costs more than the HMAC itself.
  const key = crypto.subtle.importKey(
    "raw",
    new Uint8Array(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return {
    async issue(account, lifetimeSeconds = 86_400) {
      if (typeof account !== "string" || account === "" || account.length > 256) {
        throw new TypeError("The account must be a non-empty string of at most 256 characters.");
      }
      if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1) {
        throw new TypeError("lifetimeSeconds must be a whole number of seconds, at least 1.");
      }
      return new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(account)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${lifetimeSeconds}s`)
        .sign(await key);
    },
    async authenticate(request) {
      const header = request.headers.get("authorization");
      if (header === null || header.trim() === "") return "missing";
      const token = bearer.exec(header.trim())?.[1];
      if (!token) return "invalid";
      try {
        const { payload } = await jwtVerify(token, await key, { audience, algorithms: ["HS256"] });
        return typeof payload.sub === "string" && payload.sub !== ""
          ? { account: payload.sub }
          : "invalid";
      } catch (error) {
        if (error instanceof errors.JOSEError) return "invalid";
        throw error;
      }
    },
  };
}
