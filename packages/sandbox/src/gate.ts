import { importSPKI } from "jose";
import { authenticate } from "./auth.js";
import type { FaultKind } from "./faults.js";
import { ApiError } from "./http.js";
import type { SandboxStats } from "./resources/context.js";
import type { RegisteredApiKey, SandboxData } from "./state.js";

/** What the gate needs of the sandbox's options. */
export interface GateOptions {
  hourlyRequestLimit?: number;
  retryAfterSeconds?: number;
  strictTokens?: boolean;
}

/**
 * What stands before every API route: the token (401), the key's rolling hourly budget (429,
 * with `X-Rate-Limit` on every answer) and the key's role (403).
 */
export function createGate(
  data: SandboxData,
  options: GateOptions,
  now: () => number,
  stats: SandboxStats,
) {
  const limits = rateLimiter(options.hourlyRequestLimit ?? 3500, now);
  const importedKeys = new Map<string, Promise<CryptoKey>>();
  const importKey = (apiKey: RegisteredApiKey) => {
    let imported = importedKeys.get(apiKey.keyId);
    if (!imported)
      importedKeys.set(apiKey.keyId, (imported = importSPKI(apiKey.publicKeyPem, "ES256")));
    return imported;
  };
  const acceptedTokens = new Set<string>();

  return {
    /**
     * Authenticates the request and spends one of its key's requests, writing the rate-limit
     * headers into `headers`; an injected `429` fault answers as a spent budget does.
     */
    async admit(
      request: Request,
      url: URL,
      headers: Record<string, string>,
      fault: FaultKind | undefined,
    ): Promise<RegisteredApiKey> {
      const authorization = request.headers.get("authorization");
      const auth = await authenticate(
        authorization,
        { method: request.method, url },
        data.apiKeys,
        Math.floor(now() / 1000),
        importKey,
        { strictTokens: options.strictTokens ?? false },
      );
      if (!auth.ok) {
        throw new ApiError(
          401,
          "NOT_AUTHORIZED",
          "Authentication credentials are missing or invalid.",
          auth.detail,
        );
      }
      acceptedTokens.add(authorization!);
      stats.tokens = acceptedTokens.size;
      const remaining = limits.spend(auth.apiKey.keyId);
      headers["x-rate-limit"] =
        `user-hour-lim:${limits.hourly};user-hour-rem:${Math.max(0, remaining)};`;
      if (remaining < 0 || fault === "429") {
        if (options.retryAfterSeconds !== undefined)
          headers["retry-after"] = String(options.retryAfterSeconds);
        throw new ApiError(
          429,
          "RATE_LIMIT_EXCEEDED",
          "The request rate limit has been reached.",
          `This API key has used its ${limits.hourly} requests for the rolling hour.`,
        );
      }
      return auth.apiKey;
    },

    /** Only the admin role may manage what the sandbox serves. */
    authorize(apiKey: RegisteredApiKey): void {
      if (apiKey.role !== "admin") {
        throw new ApiError(
          403,
          "FORBIDDEN_ERROR",
          "This request is forbidden for security reasons",
          "The API key in use does not allow this request: alternative distribution keys need the Admin role.",
        );
      }
    },
  };
}

/** Each key's rolling hour of request times; `spend` returns what is left (negative: over). */
function rateLimiter(hourly: number, now: () => number) {
  const requestTimes = new Map<string, number[]>();
  return {
    hourly,
    spend(keyId: string): number {
      const hourAgo = now() - 3_600_000;
      let times = requestTimes.get(keyId);
      if (!times) requestTimes.set(keyId, (times = []));
      // Times are in order: drop the expired ones from the front.
      let expired = 0;
      while (expired < times.length && times[expired]! <= hourAgo) expired++;
      if (expired > 0) times.splice(0, expired);
      times.push(now());
      return hourly - times.length;
    },
  };
}
