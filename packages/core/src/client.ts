import { AppStoreConnectError } from "@asc-kit/errors";
import type { RateLimit } from "@asc-kit/errors";
import createClient from "openapi-fetch";
import type { Client, Middleware } from "openapi-fetch";
import { authenticatedFetch } from "./auth.js";
import type { paths } from "./generated/app-store-connect.js";
import { RequestTimeoutError, TrackedRequest, resilientFetchWith } from "./retry.js";
import type { RequestFetch, ResilientFetchOptions, RetryOptions } from "./retry.js";
import { InvalidTokenError, createTokenProvider, tokenProviderFrom } from "./token.js";
import type { TokenProvider, TokenProviderOptions } from "./token.js";

/** App Store Connect's production API. */
export const defaultBaseUrl = "https://api.appstoreconnect.apple.com";

/** Options of {@link createAppStoreConnectClient}. Give an API key, a `token`, or `tokens`. */
export interface AppStoreConnectClientOptions {
  /** The API key's ID. With `privateKey`, the client signs its own tokens. */
  keyId?: string;
  /** The team's issuer ID; leave it out (or `undefined`) for an individual key. */
  issuerId?: string | undefined;
  /** The API key's private key in any shape `@asc-kit/pem` accepts (PKCS#8 `.p8`, SEC1, escaped…). */
  privateKey?: string | Uint8Array;
  /** Restricts signed tokens to these requests. */
  scope?: readonly string[];
  /** Passed to {@link createTokenProvider}. */
  lifetimeSeconds?: TokenProviderOptions["lifetimeSeconds"];
  /** Instead of a key: a token made elsewhere, or a function that returns one. */
  token?: string | (() => string | Promise<string>);
  /** Instead of a key or a token: a provider to share between clients on purpose. */
  tokens?: TokenProvider;
  /** Default `https://api.appstoreconnect.apple.com`. */
  baseUrl?: string;
  /**
   * The fetch to use, for tests and custom transports. Default `globalThis.fetch`. It gets each
   * attempt's timeout signal as `init.signal`.
   */
  fetch?: RequestFetch;
  /** Retry settings, or `false` for none. See {@link RetryOptions}. */
  retry?: RetryOptions | false;
  /** Per-attempt timeout in ms, body included. Default 30,000; 0 for none. */
  timeoutMs?: number;
  /** The largest response body read, in bytes. Default 32 MiB. See {@link ResilientFetchOptions}. */
  maxResponseBytes?: number;
  /** Sent as `User-Agent` where the runtime allows it. Default `"asc-kit"`. */
  userAgent?: string;
  /** Called with every parsed `X-Rate-Limit` header. */
  onRateLimit?: (rateLimit: RateLimit, response: Response) => void;
  /** More openapi-fetch middleware; they see requests before authentication and retries. */
  middleware?: readonly Middleware[];
}

/**
 * An openapi-fetch client for the excerpt's paths (or a consumer's own, generated the same way),
 * with what asc-kit adds.
 */
export type AppStoreConnectClient<Paths extends object = paths> = Client<Paths> & {
  /** The latest `X-Rate-Limit` budget seen, if any. */
  readonly rateLimit: RateLimit | undefined;
  /** The origin and base path requests go to; pagination refuses links elsewhere. */
  readonly baseUrl: string;
  /** The client's token provider. */
  readonly tokens: TokenProvider;
};

/**
 * Creates a typed App Store Connect client: openapi-fetch over the generated paths, with
 * ES256 authentication (tokens reused until near expiry, one refresh on a 401), retries that
 * never repeat a mutation Apple may have applied, per-attempt timeouts and rate-limit tracking.
 * HTTP errors come back as openapi-fetch's `{ data, error, response }`; a request that gets no
 * response at all throws an `AppStoreConnectError` of kind `network`.
 *
 * @example
 * ```ts
 * import { createAppStoreConnectClient } from "@asc-kit/core";
 *
 * const client = createAppStoreConnectClient({
 *   keyId: process.env.ASC_KEY_ID!,
 *   issuerId: process.env.ASC_ISSUER_ID,
 *   privateKey: process.env.ASC_PRIVATE_KEY!,
 * });
 * const { data, error } = await client.GET("/v1/alternativeDistributionKeys", {
 *   params: { query: { limit: 50 } },
 * });
 * ```
 */
export function createAppStoreConnectClient<Paths extends object = paths>(
  options: AppStoreConnectClientOptions,
): AppStoreConnectClient<Paths> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createAppStoreConnectClient needs an options object.");
  }
  const tokens = tokenProviderOf(options);
  const baseUrl = normalizeBaseUrl(options.baseUrl ?? defaultBaseUrl);
  // A request that gets no response throws the client's own error, given to the transport
  // rather than caught in a wrapper around it (a layer more for every call).
  const transport = resilientFetchWith(
    {
      fetch: authenticatedFetch(tokens, options.fetch),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxResponseBytes !== undefined
        ? { maxResponseBytes: options.maxResponseBytes }
        : {}),
      ...(options.onRateLimit ? { onRateLimit: options.onRateLimit } : {}),
    },
    asNetworkError,
  );
  const client = createClient<Paths>({
    baseUrl,
    Request: TrackedRequest,
    fetch: transport,
    headers: { "User-Agent": options.userAgent ?? "asc-kit" },
    // Apple declares every array parameter as style: form, explode: false: fields[x]=a,b.
    querySerializer: { array: { style: "form", explode: false } },
  });
  if (options.middleware?.length) client.use(...options.middleware);
  return Object.defineProperties(client, {
    rateLimit: { get: () => transport.rateLimit, enumerable: true },
    baseUrl: { value: baseUrl, enumerable: true },
    tokens: { value: tokens, enumerable: false },
  }) as AppStoreConnectClient<Paths>;
}

/**
 * A request that got no response becomes an `AppStoreConnectError` of kind `network`
 * (`TIMEOUT` or `NETWORK_ERROR`). A caller's own abort is passed through untouched.
 */
function asNetworkError(error: unknown, request: Request): unknown {
  if (request.signal.aborted || AppStoreConnectError.is(error)) return error;
  if (error instanceof Error && error.name === "AbortError") return error;
  if (error instanceof InvalidTokenError) return error;
  return new AppStoreConnectError({
    status: 0,
    code: error instanceof RequestTimeoutError ? "TIMEOUT" : "NETWORK_ERROR",
    detail: describeNetworkError(error, request.url),
    method: request.method,
    url: request.url,
    cause: error,
  });
}

/**
 * What failed and where: the message, the host, and the first error code down the causes
 * (fetch puts the errno one or two levels down, in an `AggregateError` when every address
 * failed), else the cause's own words: `fetch failed reaching api.example.com (ENOTFOUND)`.
 */
function describeNetworkError(error: unknown, url: string): string {
  if (!(error instanceof Error) || error instanceof RequestTimeoutError)
    return String(error instanceof Error ? error.message : error);
  type Node =
    { code?: unknown; cause?: unknown; errors?: unknown[]; message?: unknown } | undefined;
  let why = (error.cause as Node)?.message;
  for (let node = error.cause as Node, depth = 0; node && depth < 5; depth++) {
    if (typeof node.code === "string") {
      why = node.code;
      break;
    }
    node = (node.cause ?? node.errors?.[0]) as Node;
  }
  return `${error.message} reaching ${new URL(url).host}${typeof why === "string" ? ` (${why.slice(0, 200)})` : ""}`;
}

function tokenProviderOf(options: AppStoreConnectClientOptions): TokenProvider {
  const sources = [
    options.privateKey !== undefined,
    options.token !== undefined,
    options.tokens !== undefined,
  ];
  if (sources.filter(Boolean).length !== 1) {
    throw new TypeError(
      "Give exactly one way to authenticate: keyId and privateKey (and issuerId for a team key), or token, or tokens.",
    );
  }
  if (options.tokens) return options.tokens;
  if (options.token !== undefined) return tokenProviderFrom(options.token);
  return createTokenProvider({
    keyId: options.keyId as string,
    privateKey: options.privateKey as string | Uint8Array,
    ...(options.issuerId !== undefined ? { issuerId: options.issuerId } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
    ...(options.lifetimeSeconds !== undefined ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
  });
}

function normalizeBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`baseUrl must be an absolute http(s) URL such as ${defaultBaseUrl}.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`baseUrl must use https (or http for a local server), not ${url.protocol}`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}
