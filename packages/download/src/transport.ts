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
   * why). Rejects with what `onPiece` threw, having closed the connection.
   */
  read(onPiece: (piece: Uint8Array) => void): Promise<void>;
  broke(): unknown;
  /** Drops the body unread and closes the connection. */
  cancel(): void;
  /** Declared length of the body, when the server gave one. */
  length: number | undefined;
}

/** Fetches `url` from byte `from` on (a `Range` request when `from` is not 0). */
export type OpenDownload = (url: string, from: number) => Promise<Download>;

/** How long a download may stall (no byte arriving) before it counts as broken off. */
const idleTimeoutMs = 60_000;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
/** A CDN needs one or two at most. */
const maxRedirects = 5;

/**
 * The transport for download links. Without an injected fetch, a socket of its own
 * (`socket-get.ts`): one read buffer reused for the whole body, where Node's `http` client, and
 * more so the Web streams of `fetch`, allocate and pass on every piece. With one, its Response
 * body.
 */
export function downloadTransport(fetchUrl: FetchUrl | undefined): OpenDownload {
  return fetchUrl ? fetchTransport(fetchUrl) : (url, from) => overSocket(url, from, 0);
}

function fetchTransport(fetchUrl: FetchUrl): OpenDownload {
  return async (url, from) => {
    const response = await fetchUrl(url, from > 0 ? { headers: { range: `bytes=${from}-` } } : {});
    const length = response.headers.get("content-length");
    let broke: unknown;
    return {
      status: response.status,
      length: length === null ? undefined : Number(length),
      broke: () => broke,
      cancel: () => void response.body?.cancel().catch(() => undefined),
      async read(onPiece) {
        const reader = response.body?.getReader();
        if (!reader) return;
        for (;;) {
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await reader.read();
          } catch (error) {
            broke = error;
            return;
          }
          if (next.done) return;
          try {
            onPiece(next.value);
          } catch (error) {
            await reader.cancel(error).catch(() => undefined);
            throw error;
          }
        }
      },
    };
  };
}

/** Over a socket of its own, following redirects. */
async function overSocket(url: string, from: number, redirects: number): Promise<Download> {
  const parsed = linkUrl(url);
  const headers: Record<string, string> = { "User-Agent": "asc-kit" };
  if (from > 0) headers.Range = `bytes=${from}-`;
  const answer = await socketGet(parsed, headers, idleTimeoutMs);
  if (redirectStatuses.has(answer.status) && answer.location && redirects < maxRedirects) {
    answer.cancel();
    return overSocket(new URL(answer.location, parsed).href, from, redirects + 1);
  }
  return answer;
}

function linkUrl(url: string): URL {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new TypeError(`A download link must be http or https, not ${parsed.protocol}`);
  }
  return parsed;
}
