import { readBounded } from "./body.js";
import { AppStoreConnectError } from "./error.js";
import type { ApiErrorItem } from "./error.js";
import { parseRateLimit, parseRetryAfter } from "./headers.js";
import { maximumErrorItems, redact } from "./scrub.js";

/** Longest body excerpt kept on an error, in characters. */
export const bodyExcerptLength = 200;
/** Most bytes of an error body read; Apple's error bodies are a few hundred bytes. */
const maximumBodyBytes = 64 * 1024;

/**
 * Turns a failed response into an {@link AppStoreConnectError}. Reads the body once and never
 * throws: an HTML page from a proxy, an empty or truncated body, or JSON that is not an
 * ErrorResponse still give an error with the status and a short excerpt of the body.
 *
 * @param request the request that failed: its method and URL go on the error, its headers never.
 *
 * @example
 * ```ts
 * import { toAppStoreConnectError } from "@asc-kit/errors";
 *
 * const response = await fetch(request);
 * if (!response.ok) throw await toAppStoreConnectError(response, request);
 * ```
 */
export async function toAppStoreConnectError(
  response: Response,
  request?: Request,
): Promise<AppStoreConnectError> {
  const url = request?.url || response.url;
  return errorFromBody(await readBody(response), {
    status: response.status,
    headers: response.headers,
    ...(request ? { method: request.method } : {}),
    ...(url ? { url } : {}),
  });
}

/**
 * Makes an {@link AppStoreConnectError} from a body that was already read: the text, or the
 * value openapi-fetch parsed into its `error` field. Never throws.
 *
 * @example
 * ```ts
 * import { errorFromBody } from "@asc-kit/errors";
 *
 * const { error, response } = await client.GET("/v1/alternativeDistributionKeys/{id}", { params: { path: { id } } });
 * if (error) throw errorFromBody(error, { status: response.status, headers: response.headers, method: "GET", url: response.url });
 * ```
 */
export function errorFromBody(
  body: unknown,
  context: { status: number; headers?: Headers; method?: string; url?: string },
): AppStoreConnectError {
  const errors =
    typeof body === "string"
      ? parseErrorItems(body.slice(0, maximumBodyBytes), context.status)
      : itemsOf(body, context.status);
  const rateLimit = parseRateLimit(context.headers?.get("x-rate-limit"));
  const retryAfterSeconds = parseRetryAfter(context.headers?.get("retry-after"));
  const text =
    errors.length > 0 || body === undefined
      ? ""
      : typeof body === "string"
        ? body
        : safeStringify(body);
  const bodyExcerpt = text ? excerpt(text) : undefined;
  return new AppStoreConnectError({
    status: context.status,
    errors,
    ...(context.method ? { method: context.method } : {}),
    ...(context.url ? { url: context.url } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(bodyExcerpt ? { bodyExcerpt } : {}),
  });
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The parts of openapi-fetch's `Middleware` that {@link throwOnError} uses. */
export interface ThrowOnErrorMiddleware {
  onResponse(options: { request: Request; response: Response }): Promise<Response>;
}

/**
 * An openapi-fetch middleware that throws an {@link AppStoreConnectError} for every non-2xx
 * response, for code that prefers exceptions to openapi-fetch's `{ data, error }` result.
 * Register it last, after retries, so it sees the final response.
 *
 * @example
 * ```ts
 * import { throwOnError } from "@asc-kit/errors";
 *
 * client.use(throwOnError);
 * const { data } = await client.GET("/v1/alternativeDistributionKeys"); // throws on failure
 * ```
 */
export const throwOnError: ThrowOnErrorMiddleware = {
  async onResponse({ request, response }) {
    if (response.ok) return response;
    throw await toAppStoreConnectError(response, request);
  },
};

async function readBody(response: Response): Promise<string> {
  if (response.bodyUsed) return "";
  try {
    const { bytes } = await readBounded(response.body, maximumBodyBytes);
    return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  } catch {
    // A connection that drops while the body is read: what was read is gone, the status stays.
    return "";
  }
}

function parseErrorItems(text: string, status: number): ApiErrorItem[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [];
  }
  return itemsOf(body, status);
}

function itemsOf(body: unknown, status: number): ApiErrorItem[] {
  if (!isRecord(body) || !Array.isArray(body.errors)) return [];
  // Bounded before any work: openapi-fetch may have parsed a body of any size.
  return body.errors
    .slice(0, maximumErrorItems)
    .filter(isRecord)
    .map((item) => toItem(item, status));
}

function toItem(item: Record<string, unknown>, status: number): ApiErrorItem {
  const result: ApiErrorItem = { code: stringOf(item.code) ?? `HTTP_${status}` };
  for (const field of ["id", "status", "title", "detail"] as const) {
    const value = stringOf(item[field]);
    if (value !== undefined) result[field] = value;
  }
  const source = item.source;
  if (isRecord(source)) {
    if (typeof source.pointer === "string") result.source = { pointer: source.pointer };
    else if (typeof source.parameter === "string") result.source = { parameter: source.parameter };
  }
  if (isRecord(item.links)) result.links = item.links as NonNullable<ApiErrorItem["links"]>;
  if (isRecord(item.meta)) result.meta = item.meta;
  return result;
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function excerpt(text: string): string | undefined {
  // `[^<>]`, not `[^>]`: a run of "<" without ">" must not be scanned once per "<".
  const plain = redact(
    text
      .slice(0, maximumBodyBytes)
      .replace(/<[^<>]*>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
  );
  if (!plain) return undefined;
  return plain.length > bodyExcerptLength ? `${plain.slice(0, bodyExcerptLength)}…` : plain;
}
