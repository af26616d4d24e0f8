import { headTimeout, watchRate } from "./deadlines.js";
import type { Limits } from "./deadlines.js";
import { DownloadError, networkError } from "./errors.js";
import { socketGet } from "./socket-get.js";

/** A fetch for download links: injected for tests, proxies or other transports. */
export type FetchUrl = (input: string, init?: RequestInit) => Promise<Response>;

/** An answer to a download request. */
export interface Download {
  status: number;
  /**
   * Hands each piece of the body to `onPiece` in order, as it arrives; a piece is valid only
   * during the call (its memory may be reused for the next). Resolves at the end of the body,
   * and also when the connection breaks off (after the last piece that arrived; `broke()` says
   * why, a `DownloadError`). Rejects with what `onPiece` threw, having closed the connection.
   */
  read(onPiece: (piece: Uint8Array) => void): Promise<void>;
  broke(): DownloadError | undefined;
  /** Drops the body unread and closes the connection. */
  cancel(): void;
  /** Declared length of the body, when the server gave one. */
  length: number | undefined;
}

/**
 * Fetches `url` from byte `from` on (a `Range` request when `from` is not 0). Rejects with a
 * `DownloadError` only.
 */
export type OpenDownload = (url: string, from: number) => Promise<Download>;

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
/** A CDN needs one or two at most. */
const maxRedirects = 5;

/**
 * The transport for download links. Without an injected fetch, a socket of its own
 * (`socket-get.ts`): one read buffer reused for the whole body, where Node's `http` client, and
 * more so the Web streams of `fetch`, allocate and pass on every piece. With one, its Response
 * body. Either way every request has the deadlines of `limits`.
 */
export function downloadTransport(fetchUrl: FetchUrl | undefined, limits: Limits): OpenDownload {
  return fetchUrl ? fetchTransport(fetchUrl, limits) : (url, from) => overSocket(url, from, limits);
}

function fetchTransport(fetchUrl: FetchUrl, limits: Limits): OpenDownload {
  return async (url, from) => {
    const parsed = linkUrl(url, "The download link");
    const timeout = new AbortController();
    const headTimer = setTimeout(
      () => timeout.abort(headTimeout(parsed.host, limits)),
      limits.headMs,
    );
    let response: Response;
    try {
      response = await fetchUrl(parsed.href, {
        ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {}),
        signal: timeout.signal,
      });
    } catch (error) {
      throw timeout.signal.aborted ? timeout.signal.reason : networkError(parsed.host, error);
    } finally {
      clearTimeout(headTimer);
    }
    if (response.redirected && response.url) {
      refuseDowngrade(parsed, response.url, {
        cancel: () => void response.body?.cancel().catch(() => undefined),
      });
    }
    const length = response.headers.get("content-length");
    let broke: DownloadError | undefined;
    return {
      status: response.status,
      length: length === null ? undefined : Number(length),
      broke: () => broke,
      cancel: () => void response.body?.cancel().catch(() => undefined),
      async read(onPiece) {
        const reader = response.body?.getReader();
        if (!reader) return;
        const rate = watchRate(parsed.host, limits, (tooSlow) => {
          broke ??= tooSlow;
          void reader.cancel(tooSlow).catch(() => undefined);
        });
        try {
          for (;;) {
            let next: ReadableStreamReadResult<Uint8Array>;
            try {
              next = await reader.read();
            } catch (error) {
              broke ??= networkError(parsed.host, error);
              return;
            }
            if (next.done) return;
            rate.add(next.value.byteLength);
            try {
              onPiece(next.value);
            } catch (error) {
              await reader.cancel(error).catch(() => undefined);
              throw error;
            }
          }
        } finally {
          rate.stop();
        }
      },
    };
  };
}

/** Over a socket of its own, following redirects (never from https to http). */
async function overSocket(url: string, from: number, limits: Limits): Promise<Download> {
  let parsed = linkUrl(url, "The download link");
  const headers: Record<string, string> = { "User-Agent": "asc-kit" };
  if (from > 0) headers.Range = `bytes=${from}-`;
  for (let redirects = 0; ; redirects++) {
    const answer = await socketGet(parsed, headers, limits);
    if (!redirectStatuses.has(answer.status) || !answer.location) return answer;
    answer.cancel();
    if (redirects >= maxRedirects) {
      throw new DownloadError(
        "ERR_DOWNLOAD_URL",
        `More than ${maxRedirects} redirects from ${new URL(url).host}: the link loops.`,
      );
    }
    const next = linkUrl(resolveLocation(answer.location, parsed), "A redirect");
    refuseDowngrade(parsed, next.href, answer);
    parsed = next;
  }
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch (cause) {
    throw new DownloadError("ERR_DOWNLOAD_URL", `A redirect from ${base.host} is not a URL.`, {
      cause,
    });
  }
}

/**
 * An https link must stay https: the digests protect the bytes, not what an observer learns,
 * and a manifest fetched in clear could be swapped before its digests are read.
 */
function refuseDowngrade(from: URL, to: string, answer: { cancel(): void }): void {
  if (from.protocol === "https:" && new URL(to).protocol !== "https:") {
    answer.cancel();
    throw new DownloadError(
      "ERR_DOWNLOAD_URL",
      `${from.host} redirected from https to plain http (${new URL(to).host}): refused.`,
    );
  }
}

function linkUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DownloadError("ERR_DOWNLOAD_URL", `${what} is not a URL.`, { cause });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new DownloadError(
      "ERR_DOWNLOAD_URL",
      `${what} must be http or https, not ${parsed.protocol.slice(0, 20)}`,
    );
  }
  return parsed;
}
