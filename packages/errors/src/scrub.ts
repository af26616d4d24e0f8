import type { ApiErrorItem } from "./error.js";

/** Longest string kept from any field of an error item; Apple's details are a sentence or two. */
export const maximumFieldLength = 2_000;
/** Most error items kept from one response; the rest are counted in the message. */
export const maximumErrorItems = 100;
/** Deepest nesting, and most entries per object or array, kept from `meta` and `links`. */
const maximumDepth = 6;
const maximumEntries = 50;

const pemBlock = /-----BEGIN [A-Z0-9 ]{1,64}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,64}-----|$)/g;
const wordRun = /[\w.-]+/g;
// A DER private key in base64 starts with a SEQUENCE: "MI…" (PKCS#8, RSA) or "MH…" (SEC1 P-256).
const derBase64 = /(?<![\w+/])M[IH][A-Za-z0-9+/]{38,}={0,2}/g;
const bearer = /(bearer\s+)[\w.~+/-]{20,}=*/gi;

/**
 * Removes what looks like a token or key from text that came from the network: a proxy that
 * echoes the request could otherwise put the Authorization header into an error message.
 * Replaces PEM blocks (also unterminated ones), JWTs, base64 DER private keys and the value
 * after `Bearer`. Linear in the length of the text.
 *
 * @example
 * ```ts
 * import { redact } from "@asc-kit/errors";
 *
 * redact("Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"); // "Authorization: Bearer [redacted token]"
 * ```
 */
export function redact(text: string): string {
  return text
    .replace(pemBlock, "[redacted key]")
    .replace(wordRun, redactJwt)
    .replace(derBase64, "[redacted key]")
    .replace(bearer, "$1[redacted]");
}

/** A JWT starts with `eyJ` (base64url of `{"`) at a word start and has a `.` after it. */
function redactJwt(run: string): string {
  // One look for the last dot, so that a run of "eyJ-eyJ-…" is not scanned once per "eyJ".
  const lastDot = run.lastIndexOf(".");
  let from = run.indexOf("eyJ");
  while (from !== -1 && from + 3 <= lastDot) {
    if (from === 0 || !/\w/.test(run[from - 1]!)) return `${run.slice(0, from)}[redacted token]`;
    from = run.indexOf("eyJ", from + 3);
  }
  return run;
}

/** Cuts a string from the network to {@link maximumFieldLength} and redacts it. */
export function scrubText(text: string): string {
  const cut = text.length > maximumFieldLength ? `${text.slice(0, maximumFieldLength)}…` : text;
  return redact(cut);
}

/**
 * A copy of an error item in which every string, at any depth of `source`, `links` and `meta`,
 * is cut and redacted, and nesting and entry counts are bounded.
 */
export function scrubItem(item: ApiErrorItem): ApiErrorItem {
  return scrubJson(item, 0) as unknown as ApiErrorItem;
}

function scrubJson(value: unknown, depth: number): unknown {
  if (typeof value === "string") return scrubText(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= maximumDepth) return "[truncated]";
  if (Array.isArray(value)) {
    return value.slice(0, maximumEntries).map((entry) => scrubJson(entry, depth + 1));
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).slice(0, maximumEntries)) {
    // defineProperty, so that a key named "__proto__" stays a plain key.
    Object.defineProperty(copy, scrubText(key), {
      value: scrubJson((value as Record<string, unknown>)[key], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
