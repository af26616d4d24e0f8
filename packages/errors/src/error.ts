import type { RateLimit } from "./headers.js";
import { maximumErrorItems, scrubItem, scrubText } from "./scrub.js";

/** One entry of an App Store Connect `ErrorResponse`, as far as the body provided it. */
export interface ApiErrorItem {
  id?: string;
  /** The HTTP status as a string, e.g. `"409"`. */
  status?: string;
  /** Dotted and hierarchical, e.g. `ENTITY_ERROR.ATTRIBUTE.INVALID`; match it by prefix. */
  code: string;
  title?: string;
  /** Apple's schema requires it; real responses sometimes leave it out. */
  detail?: string;
  source?: { pointer: string } | { parameter: string };
  links?: { about?: string; associated?: string | { href?: string; meta?: { source?: string } } };
  meta?: Record<string, unknown>;
}

/**
 * What kind of failure an {@link AppStoreConnectError} is, derived from its status, so that
 * callers can `switch` on it:
 * `400 bad-request`, `401 unauthorized`, `403 forbidden`, `404 not-found`, `409 conflict`,
 * `422 unprocessable`, `429 rate-limited`, `5xx server`, anything else `other`; `network` (status
 * 0) when no response arrived at all: the connection failed, was reset, or timed out; and
 * `invalid-response` when an answer arrived that cannot be used: a redirect (API calls never
 * follow one), an empty or non-JSON body where JSON was due (code `INVALID_RESPONSE`), a
 * `links.next` to another origin or path (code `UNTRUSTED_LINK`).
 */
export type AppStoreConnectErrorKind =
  | "bad-request"
  | "unauthorized"
  | "forbidden"
  | "not-found"
  | "conflict"
  | "unprocessable"
  | "rate-limited"
  | "server"
  | "network"
  | "invalid-response"
  | "other";

/** What {@link AppStoreConnectError} is made from. */
export interface AppStoreConnectErrorInit {
  /** The HTTP status, or 0 when no response arrived. */
  status: number;
  /** A code for failures without an ErrorResponse, such as `TIMEOUT`; defaults to `HTTP_<status>`. */
  code?: string;
  /** What went wrong when there is no ErrorResponse to say it, e.g. the network error's message. */
  detail?: string;
  errors?: readonly ApiErrorItem[];
  method?: string;
  url?: string;
  rateLimit?: RateLimit;
  retryAfterSeconds?: number;
  /** A short excerpt of a body that was not an ErrorResponse. */
  bodyExcerpt?: string;
  cause?: unknown;
}

const brand = Symbol.for("@asc-kit/errors.AppStoreConnectError");

/**
 * A failed App Store Connect request: status, Apple's error items, the request's method and URL
 * (never its headers), the rate-limit budget, and a hint for known causes. `name` is always
 * `"AppStoreConnectError"`; branch on `kind` or on `code` (with {@link hasErrorCode}), never on
 * the message.
 *
 * @example
 * ```ts
 * import { AppStoreConnectError, hasErrorCode } from "@asc-kit/errors";
 *
 * if (error instanceof AppStoreConnectError && error.kind === "conflict") {
 *   console.error(error.message, error.hint);
 * }
 * if (hasErrorCode(error, "ENTITY_ERROR")) {
 *   // ENTITY_ERROR.ATTRIBUTE.INVALID and every other ENTITY_ERROR.* code
 * }
 * ```
 */
export class AppStoreConnectError extends Error {
  /** The HTTP status of the response. */
  readonly status: number;
  /** The first error item's code, or `HTTP_<status>` when the body was not an ErrorResponse. */
  readonly code: string;
  /** See {@link AppStoreConnectErrorKind}. */
  readonly kind: AppStoreConnectErrorKind;
  /** Every error item of the response, in order. Empty when the body had none. */
  readonly errors: readonly ApiErrorItem[];
  readonly method: string | undefined;
  /** The request URL, without user info. */
  readonly url: string | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** What usually causes this failure and what to do about it. */
  readonly hint: string | undefined;
  /** A short excerpt of a body that was not an ErrorResponse (an HTML page, truncated JSON…). */
  readonly bodyExcerpt: string | undefined;

  constructor(init: AppStoreConnectErrorInit) {
    // Everything that may have come from the network is cut and scrubbed here, once, so that no
    // field, message, toJSON() or inspect output can carry a token or a key.
    const errors = Object.freeze(
      (init.errors ?? []).slice(0, maximumErrorItems).map((item) => Object.freeze(scrubItem(item))),
    );
    const url = init.url === undefined ? undefined : scrubText(withoutUserInfo(init.url));
    const detail = init.detail === undefined ? undefined : scrubText(init.detail);
    const bodyExcerpt = init.bodyExcerpt === undefined ? undefined : scrubText(init.bodyExcerpt);
    const details = {
      ...init,
      errors,
      url,
      ...(detail === undefined ? {} : { detail }),
      ...(bodyExcerpt === undefined ? {} : { bodyExcerpt }),
    };
    super(describe(details), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AppStoreConnectError";
    this.status = init.status;
    this.errors = errors;
    this.code = errors[0]?.code ?? syntheticCode(init);
    this.kind = kindOf(init.status, this.code);
    this.method = init.method?.toUpperCase();
    this.url = url;
    this.rateLimit = init.rateLimit;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.bodyExcerpt = bodyExcerpt;
    this.hint = hintFor(details);
    Object.defineProperty(this, brand, { value: true });
  }

  /** True for an AppStoreConnectError, also one made by another copy of this package. */
  static is(value: unknown): value is AppStoreConnectError {
    return typeof value === "object" && value !== null && brand in value;
  }

  /** A plain object for logs: every field above, no request headers, no tokens. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      kind: this.kind,
      errors: this.errors,
      method: this.method,
      url: this.url,
      rateLimit: this.rateLimit,
      retryAfterSeconds: this.retryAfterSeconds,
      hint: this.hint,
      bodyExcerpt: this.bodyExcerpt,
    };
  }
}

/**
 * True when any error item's code is `prefix` or starts with `prefix` followed by a dot:
 * `ENTITY_ERROR` matches `ENTITY_ERROR.ATTRIBUTE.INVALID`, not `ENTITY_ERRORS`. Also checks a
 * synthetic code such as `HTTP_502`. Any other value gives `false`.
 *
 * @example
 * ```ts
 * import { hasErrorCode } from "@asc-kit/errors";
 *
 * if (hasErrorCode(error, "ENTITY_ERROR.ATTRIBUTE")) console.error("A value was refused.");
 * ```
 */
export function hasErrorCode(error: unknown, prefix: string): boolean {
  if (typeof prefix !== "string" || prefix === "") {
    throw new TypeError('hasErrorCode needs a non-empty code prefix, such as "ENTITY_ERROR".');
  }
  if (!AppStoreConnectError.is(error)) return false;
  const matches = (code: string) => code === prefix || code.startsWith(`${prefix}.`);
  return matches(error.code) || error.errors.some((item) => matches(item.code));
}

function syntheticCode(init: Pick<AppStoreConnectErrorInit, "code" | "status">): string {
  return init.code ?? (init.status === 0 ? "NETWORK_ERROR" : `HTTP_${init.status}`);
}

/** Codes of answers that arrived but cannot be used, whatever their status. */
const invalidResponseCodes = new Set(["INVALID_RESPONSE", "UNTRUSTED_LINK", "TOO_MANY_PAGES"]);

function kindOf(status: number, code: string): AppStoreConnectErrorKind {
  if (invalidResponseCodes.has(code) || (status >= 100 && status <= 399)) {
    return "invalid-response";
  }
  switch (status) {
    case 0:
      return "network";
    case 400:
      return "bad-request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not-found";
    case 409:
      return "conflict";
    case 422:
      return "unprocessable";
    case 429:
      return "rate-limited";
    default:
      return status >= 500 && status <= 599 ? "server" : "other";
  }
}

type Details = Omit<AppStoreConnectErrorInit, "url"> & {
  errors: readonly ApiErrorItem[];
  url: string | undefined;
};

function describe(details: Details): string {
  const [first, ...rest] = details.errors;
  const target =
    details.method && details.url ? `${details.method.toUpperCase()} ${pathOf(details.url)}: ` : "";
  const code = first?.code ?? syntheticCode(details);
  let text = details.status === 0 ? `${target}${code}` : `${target}${details.status} ${code}`;
  const explanation = first
    ? (first.detail ?? first.title)
    : (details.detail ?? details.bodyExcerpt);
  if (explanation) text += `: ${explanation}`;
  if (first?.source) {
    text +=
      "pointer" in first.source
        ? ` (at ${first.source.pointer})`
        : ` (parameter ${first.source.parameter})`;
  }
  if (rest.length > 0) text += ` and ${rest.length} more error${rest.length === 1 ? "" : "s"}`;
  return oneLine(text);
}

function hintFor(details: Details): string | undefined {
  const first = details.errors[0];
  if (details.status >= 300 && details.status <= 399) {
    return "App Store Connect does not redirect API calls, and asc-kit never follows a redirect (it could turn a POST into a GET elsewhere and report a false success). Check baseUrl and any proxy in between.";
  }
  if (details.code !== undefined && invalidResponseCodes.has(details.code)) {
    return "An answer arrived but could not be used. A GET can be tried again; after a POST or DELETE the outcome is unknown, so read the state back before trying again.";
  }
  switch (details.status) {
    case 401:
      return (
        "App Store Connect did not accept the token. Usual causes: the machine's clock is off (an iat in the future is refused), " +
        "the token lives longer than 20 minutes (exp - iat), the key ID or issuer ID does not belong to this key " +
        "(leave the issuer ID out for an individual key), or the key was revoked."
      );
    case 403:
      return "The API key's role does not allow this operation. Use a key with a role that may manage this resource (Admin for alternative distribution), or ask the Account Holder for access.";
    case 404:
      // Apple: "The path provided does not match a defined resource type."
      if (/\bpath\b.*\bresource type\b/i.test(first?.detail ?? "")) {
        return "App Store Connect does not know this path: check baseUrl (it ends before /v1) and the path.";
      }
      return "No resource has this id, or this key cannot see it. Check the id (list the resources to find it) and that the key belongs to the same team.";
    case 409:
      if (
        details.method?.toUpperCase() === "POST" &&
        details.url &&
        pathOf(details.url) === "/v1/alternativeDistributionKeys"
      ) {
        return "An alternative distribution key already exists for the account, or for that app. Remove the existing key first, or add an app-specific key by giving an app id.";
      }
      if (
        details.method?.toUpperCase() === "POST" &&
        details.url &&
        pathOf(details.url) === "/v1/alternativeDistributionDomains"
      ) {
        return "This domain is registered already: a domain can be registered once per account. List the domains to find its id; to change its reference name, remove it and register it again.";
      }
      return "The request conflicts with the current state of the resource. Read the state back before trying again.";
    case 422: {
      const pointer = first?.source && "pointer" in first.source ? first.source.pointer : undefined;
      if (pointer === "/data/attributes/publicKey") {
        return "The public key was refused. Check it offline with @asc-kit/pem (inspectKey, toPublicKeyPem): it must be an EC P-256 public key as SPKI PEM.";
      }
      return pointer ? `A value in the request body was refused: see ${pointer}.` : undefined;
    }
    case 429:
      return rateLimitHint(details);
    case 0:
      return "No response arrived (the connection failed, was reset or timed out). A GET can be tried again; after a POST or DELETE the outcome is unknown, so read the state back before trying again.";
    default:
      if (details.status >= 500 && details.status <= 599) {
        return "App Store Connect had a server error. A GET can be tried again; after a POST or DELETE the outcome is unknown, so read the state back before trying again.";
      }
      return undefined;
  }
}

function rateLimitHint(details: Details): string {
  const budget = Object.entries(details.rateLimit ?? {})
    .filter(([, window]) => window.limit !== undefined || window.remaining !== undefined)
    .map(([name, window]) => `${name}: ${window.remaining ?? "?"} of ${window.limit ?? "?"} left`)
    .join(", ");
  const when =
    details.retryAfterSeconds !== undefined
      ? `Retry after ${details.retryAfterSeconds} s.`
      : "Wait before retrying (the hourly budget is rolling), with backoff.";
  return `The key's request budget is spent${budget ? ` (${budget})` : ""}. ${when}`;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function withoutUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
