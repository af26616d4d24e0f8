import { AppStoreConnectError, parseRateLimit, parseRetryAfter } from "@asc-kit/errors";
import type { RateLimit } from "@asc-kit/errors";
import { createDeadlines } from "./deadlines.js";
import type { Deadline, Deadlines } from "./deadlines.js";
import { withReadLength } from "./length-headers.js";

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

/**
 * A fetch that takes a Request and, for timeouts, an abort signal to pass on; `redirect` is
 * `"manual"` so that an API call never follows a redirect into a false success.
 */
export type RequestFetch = (
  request: Request,
  init?: { signal?: AbortSignal; redirect?: RequestRedirect },
) => Promise<Response>;

/** Options of {@link createResilientFetch}. */
export interface ResilientFetchOptions {
  /**
   * The fetch to call. Default `globalThis.fetch`. It receives each attempt's timeout signal as
   * `init.signal`; pass it on to fetch for timeouts to abort the connection.
   */
  fetch?: RequestFetch;
  retry?: RetryOptions | false;
  /**
   * Aborts an attempt that has not answered, body included, within this many ms. Default
   * 30,000; 0 for none.
   */
  timeoutMs?: number;
  /**
   * The largest response body read, in bytes. Default 32 MiB (a page of 200 resources with
   * their includes is far smaller). A larger body fails with an `AppStoreConnectError` whose
   * code is `INVALID_RESPONSE`.
   */
  maxResponseBytes?: number;
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

/**
 * `Request`, remembering whether it was made without a signal: nobody can abort such a
 * request, so an attempt need not listen for it. Give it to openapi-fetch as its `Request`.
 * (A private field rather than a WeakSet: one entry per request cost a call's worth of GC.)
 */
export class TrackedRequest extends Request {
  readonly #withoutCallerSignal: boolean;
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(input, init);
    this.#withoutCallerSignal = !init?.signal && !(input instanceof Request);
  }

  /** False for a request made without a caller's signal: nothing can abort it. */
  static abortable(request: Request): boolean {
    return !(#withoutCallerSignal in request) || !(request as TrackedRequest).#withoutCallerSignal;
  }
}

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
  return resilientFetchWith(options, (error) => error);
}

/**
 * {@link createResilientFetch}, with `failed` turning whatever a request throws into what its
 * caller sees. The client gives its own errors here rather than wrapping the fetch in a layer of
 * its own: each layer is an async frame a call.
 */
export function resilientFetchWith(
  options: ResilientFetchOptions,
  failed: (error: unknown, request: Request) => unknown,
): ResilientFetch {
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
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > maxTimerMs) {
    throw new TypeError(
      `timeoutMs must be a whole number of milliseconds up to ${maxTimerMs} (0 turns the timeout off).`,
    );
  }
  const maxResponseBytes = positiveInteger(
    options.maxResponseBytes ?? 32 * 1024 * 1024,
    "maxResponseBytes",
  );
  const deadlines = timeoutMs === 0 ? undefined : createDeadlines(timeoutMs);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  let latestRateLimit: RateLimit | undefined;
  // The header repeats from one response to the next until the budget moves: parse it once.
  let lastHeader: string | undefined;
  let lastParsed: RateLimit | undefined;
  const rateLimitOf = (header: string | null): RateLimit | undefined => {
    if (header === null) return undefined;
    if (header !== lastHeader) {
      lastHeader = header;
      lastParsed = parseRateLimit(header);
      // Shared by the responses that carry the same header: frozen, so that no caller can
      // change what the next one is given.
      if (lastParsed) for (const window of Object.values(lastParsed)) Object.freeze(window);
      Object.freeze(lastParsed);
    }
    return lastParsed;
  };

  /**
   * One attempt, body included: the body is read here so that the timeout bounds it, and a
   * reset mid-body is a failed attempt (retried for a GET) rather than a broken result. Sending
   * and reading are one function rather than two: each async frame costs every call.
   */
  async function attempt(request: Request): Promise<Response> {
    const watch = deadlines && new AttemptWatch(request, deadlines, timeoutMs);
    try {
      // Aborted before the attempt began (an abort listener added now would never hear it):
      // nothing is sent, and the caller gets its own reason.
      if (request.signal.aborted) throw request.signal.reason;
      const response = await send(request, watch ? watch.init : manualRedirects);
      const length = response.headers.get("content-length");
      if (response.type === "opaqueredirect" || Number(length ?? 0) > maxResponseBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw refused(response, request, maxResponseBytes);
      }
      if (request.method === "HEAD") return answering(response, request);
      // A transport that read the body itself (the Node.js one) hands its bytes over as they are.
      const held = (response as Partial<ReadResponse>)[readState];
      if (held) {
        if (held.bytes.byteLength > maxResponseBytes) {
          throw tooLarge(request, response.status, maxResponseBytes);
        }
        return nonEmpty(response, request, held.bytes);
      }
      const body = response.body;
      if (!body) return alreadyRead(nonEmpty(response, request, noBytes), noBytes, request, length);
      const reader = body.getReader();
      watch?.reading(reader);
      const chunks: Uint8Array[] = [];
      let size = 0;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (watch?.stopped) throw watch.reason;
          if (done) break;
          size += value.byteLength;
          if (size > maxResponseBytes) break;
          chunks.push(value);
        }
      } catch (error) {
        if (watch?.stopped || request.signal.aborted) throw error;
        throw cutOff(request, response.status, error);
      }
      if (size > maxResponseBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(request, response.status, maxResponseBytes);
      }
      const bytes = joined(chunks, size);
      return alreadyRead(nonEmpty(response, request, bytes), bytes, request, length);
    } catch (error) {
      if (watch?.reason instanceof RequestTimeoutError) throw watch.reason;
      throw error;
    } finally {
      watch?.end();
    }
  }

  async function resilientFetch(request: Request): Promise<Response> {
    // Whatever is thrown goes through `failed`, caught in this frame rather than a layer more.
    try {
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
          if (AppStoreConnectError.is(error) && !passingFaults.has(error)) throw error;
          await sleep(backoff(attemptNumber), request.signal);
          continue;
        }
        const rateLimit = rateLimitOf(response.headers.get("x-rate-limit"));
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
    } catch (error) {
      throw failed(error, request);
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

const manualRedirects = { redirect: "manual" } as const;

/**
 * What fetch is given for an attempt: no redirects, and the attempt's signal, made when first
 * read (on Node.js 20 a signal costs more than the rest of the timeout; a fetch that never
 * looks at it does not pay for one). A getter on the class rather than on each object: one on
 * each object gave every init a hidden class of its own, and the heap filled with them.
 */
class AttemptInit {
  readonly redirect = "manual";
  readonly #controller: AbortController;
  constructor(controller: AbortController) {
    this.#controller = controller;
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
}

/**
 * What stops an attempt: its deadline, and the caller's signal where there is one. Stopping
 * aborts fetch, through the init's signal, and cancels the body being read, so that a fetch
 * that ignores the signal stops too. An object of a class, its own listener, rather than a
 * closure for each of these on every attempt.
 */
class AttemptWatch {
  stopped = false;
  reason: unknown = undefined;
  readonly init: AttemptInit;
  readonly #controller = new AbortController();
  readonly #request: Request;
  readonly #deadlines: Deadlines;
  readonly #deadline: Deadline;
  /** A request made without a signal has one that nothing can abort: nothing to listen to. */
  readonly #abortable: boolean;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(request: Request, deadlines: Deadlines, timeoutMs: number) {
    this.init = new AttemptInit(this.#controller);
    this.#request = request;
    this.#deadlines = deadlines;
    this.#deadline = deadlines.start(() => this.stop(new RequestTimeoutError(timeoutMs)));
    this.#abortable = TrackedRequest.abortable(request);
    if (this.#abortable) request.signal.addEventListener("abort", this, { once: true });
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.stop(this.#request.signal.reason);
  }

  stop(reason: unknown): void {
    this.stopped = true;
    this.reason = reason;
    this.#controller.abort(reason);
    this.#reader?.cancel(reason).catch(() => undefined);
  }

  /**
   * The body is read with `reader`: stopping cancels it. Stopped already (a fetch that ignored
   * the signal and answered late): cancelled now, or its first read could wait forever.
   */
  reading(reader: ReadableStreamDefaultReader<Uint8Array>): void {
    this.#reader = reader;
    if (this.stopped) reader.cancel(this.reason).catch(() => undefined);
  }

  end(): void {
    this.#deadlines.end(this.#deadline);
    if (this.#abortable) this.#request.signal.removeEventListener("abort", this);
  }
}

/** The longest delay timers take: 2^31 - 1 ms, some 24.8 days (a longer one fires at once). */
const maxTimerMs = 2 ** 31 - 1;

/** The statuses whose responses have no body, whatever came with them. */
export const nullBodyStatuses = new Set([101, 204, 205, 304]);
const utf8 = new TextDecoder();

const readState = Symbol("asc-kit.readState");
/** The url a response gives of itself, read only when asked: each read serializes it. */
const responseUrl = Object.getOwnPropertyDescriptor(Response.prototype, "url")!.get!;
/**
 * The call a response answered, for messages that name it. Its method and url rather than the
 * request: a response can outlive its call (undici keeps each fetch's objects through a weak
 * reference that young-generation collections treat as strong), and a request held from it
 * kept its headers and signal alive with it.
 */
export type Call = Pick<Request, "method" | "url">;
interface ReadState {
  bytes: Uint8Array<ArrayBuffer>;
  used: boolean;
  call: Call;
  /** What `headers` answers: the response's own, or those with the length read. */
  headers: Headers;
  /** What `url` answers, worked out when first asked: a call's own path never asks. */
  url: string | undefined;
}
type ReadResponse = Response & { [readState]: ReadState };

/** The bytes, once: the body methods are async, so a second read is a rejection as fetch's. */
function take(response: ReadResponse): Uint8Array<ArrayBuffer> {
  const state = response[readState];
  if (state.used) throw new TypeError("Body is unusable: Body has already been read");
  state.used = true;
  return state.bytes;
}

/**
 * A response whose body was read within its attempt (so that the timeout bounded it): the body
 * methods answer from the bytes, and `json()` reports a body that is not JSON as
 * `INVALID_RESPONSE`. Responses are given this prototype rather than rebuilt: building a
 * Response around a stream costs more than the rest of a call.
 */
class AlreadyRead extends Response {
  override async arrayBuffer(this: ReadResponse) {
    return take(this).slice().buffer;
  }
  override async blob(this: ReadResponse) {
    return new Blob([take(this)]);
  }
  override async text(this: ReadResponse) {
    return utf8.decode(take(this));
  }
  override async json(this: ReadResponse) {
    return parseJson(take(this), this);
  }
  override clone(this: ReadResponse): Response {
    const { bytes, used, call } = this[readState];
    if (used) throw new TypeError("Response.clone: Body has already been consumed.");
    const copy = new Response(nullBodyStatuses.has(this.status) ? null : bytes.slice(), {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
    });
    return alreadyRead(copy, bytes, call);
  }
}
Object.defineProperties(AlreadyRead.prototype, {
  bytes: {
    async value(this: ReadResponse) {
      return take(this).slice();
    },
  },
  body: {
    get(this: ReadResponse) {
      const { bytes, used } = this[readState];
      return used || nullBodyStatuses.has(this.status) ? null : new Blob([bytes]).stream();
    },
  },
  bodyUsed: {
    get(this: ReadResponse) {
      return this[readState].used;
    },
  },
  headers: {
    get(this: ReadResponse) {
      return this[readState].headers;
    },
  },
  url: {
    get(this: ReadResponse) {
      const state = this[readState];
      // A fetch of one's own (a mock, a handler) may leave url empty: it answered this request.
      return (state.url ??= responseUrl.call(this) || state.call.url);
    },
  },
});

/** The call a response with no body read (to a HEAD) answered. */
const answered = Symbol("asc-kit.answered");
type Answered = Response & { [answered]?: Call };

/** `response` to a HEAD, which has no body to read: it records the call it answered. */
function answering(response: Response, request: Request): Response {
  (response as Answered)[answered] = callOf(request);
  return response;
}

/** A request's method and url, and nothing else of it. */
const callOf = ({ method, url }: Call): Call => ({ method, url });

/**
 * The call a response from this fetch answered, or `undefined` for another response (one a
 * middleware made, say): for messages that name the call.
 */
export function callAnswered(response: Response): Call | undefined {
  return (response as Partial<ReadResponse>)[readState]?.call ?? (response as Answered)[answered];
}

/**
 * `response`, its body read into `bytes`, answering from them from now on. A transport that
 * reads bodies itself gives its responses this form, and the attempt takes the bytes as read.
 * `declared` is the response's `Content-Length`, when the caller has read it already.
 */
export function alreadyRead(
  response: Response,
  bytes: Uint8Array<ArrayBuffer>,
  call: Call,
  declared: string | null = response.headers.get("content-length"),
): Response {
  // openapi-fetch parses a body without a length by itself (a SyntaxError for one that is not
  // JSON) and reads none when the length is "0": a body read without one (chunked) is given
  // the length read, so that json() reads it and reports bad JSON as INVALID_RESPONSE. A length
  // already there is left as the server sent it (that of a compressed body differs from the
  // bytes read).
  const headers =
    bytes.byteLength > 0 && (declared === null || declared === "0")
      ? withReadLength(response.headers, bytes.byteLength)
      : response.headers;
  (response as ReadResponse)[readState] = {
    bytes,
    used: false,
    call: callOf(call),
    headers,
    url: undefined,
  };
  return Object.setPrototypeOf(response, AlreadyRead.prototype) as Response;
}

const noBytes = new Uint8Array(0);

/** The chunks of a body as one array of `size` bytes (the one chunk itself, most often). */
function joined(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * `response`, unless its 200 or 201 came with no body where App Store Connect always sends a
 * JSON document: a passing fault (a proxy, a cut connection), which another attempt may cure.
 */
function nonEmpty(response: Response, request: Request, bytes: Uint8Array): Response {
  if (bytes.byteLength > 0 || (response.status !== 200 && response.status !== 201)) {
    return response;
  }
  const error = invalidResponse(
    request,
    response.status,
    `The ${response.status} response has an empty body where App Store Connect sends a JSON document.`,
  );
  passingFaults.add(error);
  throw error;
}

function parseJson(bytes: Uint8Array, response: ReadResponse): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    // Read only here: a getter's cost on every call, for what only a failure reports.
    const status = response.status;
    throw invalidResponse(
      response[readState].call,
      status,
      `The ${status} response is not valid JSON (${bytes.byteLength} bytes); it may have been cut short or come from a proxy.`,
    );
  }
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? `${error.message}, ${code}` : error.message;
}

/** Invalid responses that another attempt may cure (an empty body from a passing fault). */
const passingFaults = new WeakSet<AppStoreConnectError>();

/**
 * The answer began and then broke off (`cause`): a response arrived, but not a usable one. A GET
 * tries again.
 */
export function cutOff(request: Request, status: number, cause: unknown): AppStoreConnectError {
  const error = invalidResponse(
    request,
    status,
    `The connection failed while the ${status} response's body was read (${describeCause(cause)}).`,
  );
  passingFaults.add(error);
  return error;
}

/** A response not read at all: a redirect, or a body that declares more than `limit` bytes. */
function refused(response: Response, request: Request, limit: number): AppStoreConnectError {
  if (response.type !== "opaqueredirect") return tooLarge(request, response.status, limit);
  // A browser's form of a redirect under redirect: "manual"; its status reads 0.
  return invalidResponse(
    request,
    0,
    "The server answered with a redirect; API calls do not follow redirects (is baseUrl right, or is a proxy in the way?).",
  );
}

/** A body larger than `limit` bytes, the `maxResponseBytes` in force. */
export function tooLarge(request: Request, status: number, limit: number): AppStoreConnectError {
  return invalidResponse(
    request,
    status,
    `The response body is larger than maxResponseBytes (${limit} bytes).`,
  );
}

/** A response arrived but cannot be used: code `INVALID_RESPONSE`, kind `invalid-response`. */
export function invalidResponse(call: Call, status: number, detail: string): AppStoreConnectError {
  return new AppStoreConnectError({
    status,
    code: "INVALID_RESPONSE",
    detail,
    method: call.method,
    url: call.url,
  });
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
