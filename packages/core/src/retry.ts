import { parseRateLimit, parseRetryAfter } from "@asc-kit/errors";
import type { RateLimit } from "@asc-kit/errors";

/** How requests are retried. Every field has a default. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 4; 1 turns retries off. */
  attempts?: number;
  /** The first backoff's ceiling in ms; each retry doubles it (full jitter). Default 500. */
  baseDelayMs?: number;
  /** The largest backoff in ms. Default 20,000. */
  maxDelayMs?: number;
  /** A `Retry-After` longer than this is not waited out: the 429 is returned. Default 60. */
  maxRetryAfterSeconds?: number;
}

/** A fetch that takes a Request and, for timeouts, an abort signal to pass on. */
export type RequestFetch = (request: Request, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Options of {@link createResilientFetch}. */
export interface ResilientFetchOptions {
  /**
   * The fetch to call. Default `globalThis.fetch`. It receives each attempt's timeout signal as
   * `init.signal`; pass it on to fetch for timeouts to abort the connection.
   */
  fetch?: RequestFetch;
  retry?: RetryOptions | false;
  /** Aborts an attempt that has not answered within this many ms. Default 30,000; 0 for none. */
  timeoutMs?: number;
  /** Called with every parsed `X-Rate-Limit` header. */
  onRateLimit?: (rateLimit: RateLimit, response: Response) => void;
  /** Injected for tests: the random source of the jitter, and how to wait. */
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal | null) => Promise<void>;
}

/** A fetch that retries, times out and reports rate limits. */
export type ResilientFetch = ((request: Request) => Promise<Response>) & {
  /** The latest `X-Rate-Limit` seen, if any. */
  readonly rateLimit: RateLimit | undefined;
};

/** Thrown when an attempt got no answer within `timeoutMs`. */
export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";
  readonly code = "TIMEOUT";
  constructor(readonly timeoutMs: number) {
    super(`No response within ${timeoutMs} ms.`);
  }
}

const idempotentMethods = new Set(["GET", "HEAD", "OPTIONS"]);
const retriedStatuses = new Set([429, 500, 502, 503, 504]);

/**
 * Wraps fetch with the retry rules that keep App Store Connect calls safe:
 * GET and HEAD are retried on 429, 500, 502, 503, 504 and network errors; POST, PATCH and
 * DELETE only on 429, the one answer that proves nothing was applied. Backoff is exponential
 * with full jitter; `Retry-After` is honoured up to a cap. Each attempt gets its own timeout,
 * and the caller's `AbortSignal` stops everything at once.
 *
 * @example
 * ```ts
 * import createClient from "openapi-fetch";
 * import { createResilientFetch, type paths } from "@asc-kit/core";
 *
 * const client = createClient<paths>({ baseUrl, fetch: createResilientFetch({ timeoutMs: 10_000 }) });
 * ```
 */
export function createResilientFetch(options: ResilientFetchOptions = {}): ResilientFetch {
  const send: RequestFetch = options.fetch ?? ((request, init) => globalThis.fetch(request, init));
  const retry = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
  const attempts = positiveInteger(retry.attempts ?? 4, "retry.attempts");
  const baseDelayMs = positiveInteger(retry.baseDelayMs ?? 500, "retry.baseDelayMs");
  const maxDelayMs = positiveInteger(retry.maxDelayMs ?? 20_000, "retry.maxDelayMs");
  const maxRetryAfterSeconds = positiveInteger(
    retry.maxRetryAfterSeconds ?? 60,
    "retry.maxRetryAfterSeconds",
  );
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
    throw new TypeError(
      "timeoutMs must be a whole number of milliseconds (0 turns the timeout off).",
    );
  }
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  let latestRateLimit: RateLimit | undefined;

  async function attempt(request: Request): Promise<Response> {
    if (timeoutMs === 0) return send(request);
    // One controller per attempt, aborted by the timer or by the caller's own signal.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RequestTimeoutError(timeoutMs)), timeoutMs);
    const forwardAbort = () => controller.abort(request.signal.reason);
    request.signal.addEventListener("abort", forwardAbort, { once: true });
    try {
      return await send(request, { signal: controller.signal });
    } catch (error) {
      if (controller.signal.reason instanceof RequestTimeoutError) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", forwardAbort);
    }
  }

  async function resilientFetch(request: Request): Promise<Response> {
    const idempotent = idempotentMethods.has(request.method.toUpperCase());
    for (let attemptNumber = 1; ; attemptNumber++) {
      const last = attemptNumber >= attempts;
      // A body can be sent once: send a copy while another attempt may follow.
      const sent = last || !request.body ? request : request.clone();
      let response: Response;
      try {
        response = await attempt(sent);
      } catch (error) {
        if (request.signal.aborted || last || !idempotent) throw error;
        await sleep(backoff(attemptNumber), request.signal);
        continue;
      }
      const rateLimitHeader = response.headers.get("x-rate-limit");
      const rateLimit = rateLimitHeader === null ? undefined : parseRateLimit(rateLimitHeader);
      if (rateLimit) {
        latestRateLimit = rateLimit;
        options.onRateLimit?.(rateLimit, response);
      }
      const retryable =
        response.status === 429 || (idempotent && retriedStatuses.has(response.status));
      if (!retryable || last) return response;
      let delay = backoff(attemptNumber);
      if (response.status === 429) {
        const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
        if (retryAfter !== undefined) {
          if (retryAfter > maxRetryAfterSeconds) return response;
          delay = retryAfter * 1000;
        }
      }
      await response.body?.cancel().catch(() => undefined);
      await sleep(delay, request.signal);
    }
  }

  function backoff(attemptNumber: number): number {
    return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attemptNumber - 1)));
  }

  return Object.defineProperty(resilientFetch, "rateLimit", {
    get: () => latestRateLimit,
    enumerable: true,
  }) as ResilientFetch;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`${name} must be a whole number, 1 or more.`);
  return value;
}

function abortableSleep(ms: number, signal: AbortSignal | null): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
