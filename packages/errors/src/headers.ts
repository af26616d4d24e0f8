/** The request budget of one window of `X-Rate-Limit`, such as `user-hour`. */
export interface RateLimitWindow {
  limit?: number;
  remaining?: number;
}

/** Parsed `X-Rate-Limit`, keyed by window: `{ "user-hour": { limit: 3500, remaining: 500 } }`. */
export type RateLimit = Record<string, RateLimitWindow>;

const rateLimitPart = /^(.+?)-(lim|rem)\s*:\s*(\d+)$/;

/**
 * Parses App Store Connect's `X-Rate-Limit` header. Tolerates spaces, a missing trailing `;`,
 * several windows, repeated headers joined with commas, and junk parts (ignored). Never throws.
 *
 * @returns the windows found, or `undefined` when the header is absent or has none.
 *
 * @example
 * ```ts
 * import { parseRateLimit } from "@asc-kit/errors";
 *
 * parseRateLimit("user-hour-lim:3500;user-hour-rem:500;");
 * // { "user-hour": { limit: 3500, remaining: 500 } }
 * ```
 */
export function parseRateLimit(header: string | null | undefined): RateLimit | undefined {
  if (typeof header !== "string") return undefined;
  const windows: RateLimit = {};
  let found = false;
  for (const part of header.split(/[;,]/)) {
    const match = rateLimitPart.exec(part.trim());
    if (!match) continue;
    const [, name, kind, digits] = match as unknown as [string, string, "lim" | "rem", string];
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) continue;
    // defineProperty, so that a window named "__proto__" stays a plain key.
    if (!Object.hasOwn(windows, name)) {
      Object.defineProperty(windows, name, {
        value: {},
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    const window = windows[name]!;
    if (kind === "lim") window.limit = value;
    else window.remaining = value;
    found = true;
  }
  return found ? windows : undefined;
}

const deltaSeconds = /^\d+$/;
// IMF-fixdate, RFC 850 and asctime, the three forms HTTP allows (RFC 9110, section 5.6.7).
const httpDate =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/**
 * Parses a `Retry-After` value: delta-seconds or an HTTP date. Never throws.
 *
 * @returns whole seconds to wait, or `undefined` for junk and for dates in the past.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "@asc-kit/errors";
 *
 * parseRetryAfter("120"); // 120
 * parseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT", new Date("2026-10-21T07:27:00Z")); // 60
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (deltaSeconds.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds : undefined;
  }
  if (!httpDate.test(text)) return undefined;
  const at = Date.parse(text);
  const from = now.getTime();
  if (Number.isNaN(at) || Number.isNaN(from)) return undefined;
  const seconds = Math.ceil((at - from) / 1000);
  return seconds > 0 ? seconds : undefined;
}
