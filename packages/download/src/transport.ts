import { get as httpGet } from "node:http";
import type { IncomingMessage, RequestOptions } from "node:http";
import { get as httpsGet } from "node:https";
import { PassThrough, Readable } from "node:stream";

/** A fetch for download links: injected for tests, proxies or other transports. */
export type FetchUrl = (input: string, init?: RequestInit) => Promise<Response>;

/** An answer to a download request. */
export interface Download {
  status: number;
  /**
   * The body. A connection that breaks off ends it cleanly after the last piece that arrived
   * (and `broke()` says why), so that every piece before the break is verified and written.
   */
  body: Readable;
  broke(): unknown;
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
const pieceBytes = 1024 * 1024;

/**
 * The transport for download links. Without an injected fetch, Node's own `http`/`https`:
 * Node streams carry a 256 MB asset to disk at close to the speed of curl, where the Web
 * streams of `fetch` cost a large share of it. With one, its Response body.
 */
export function downloadTransport(fetchUrl: FetchUrl | undefined): OpenDownload {
  return fetchUrl ? fetchTransport(fetchUrl) : (url, from) => nodeGet(url, from, 0);
}

function fetchTransport(fetchUrl: FetchUrl): OpenDownload {
  return async (url, from) => {
    const response = await fetchUrl(url, from > 0 ? { headers: { range: `bytes=${from}-` } } : {});
    const length = response.headers.get("content-length");
    const reader = response.body?.getReader();
    let broke: unknown;
    async function* pieces(): AsyncGenerator<Uint8Array> {
      if (!reader) return;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } catch (error) {
        broke = error;
      } finally {
        reader.releaseLock();
      }
    }
    const body = Readable.from(pieces(), { objectMode: false });
    body.once("close", () => void response.body?.cancel().catch(() => undefined));
    return {
      status: response.status,
      body,
      broke: () => broke,
      length: length === null ? undefined : Number(length),
    };
  };
}

function nodeGet(url: string, from: number, redirects: number): Promise<Download> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      return reject(new TypeError(`A download link must be http or https, not ${parsed.protocol}`));
    }
    const get = parsed.protocol === "https:" ? httpsGet : httpGet;
    const options = {
      headers: from > 0 ? { range: `bytes=${from}-` } : {},
      highWaterMark: pieceBytes,
    } as RequestOptions;
    const request = get(parsed, options, (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (redirectStatuses.has(status) && location && redirects < maxRedirects) {
        response.resume();
        return resolve(nodeGet(new URL(location, parsed).href, from, redirects + 1));
      }
      const length = response.headers["content-length"];
      resolve({
        status,
        body: endsOnBreak(response, (error) => (broke ??= error)),
        broke: () => broke,
        length: length === undefined ? undefined : Number(length),
      });
    });
    let broke: unknown;
    request.setTimeout(idleTimeoutMs, () =>
      request.destroy(new Error(`no data for ${idleTimeoutMs / 1000} s`)),
    );
    request.once("error", reject);
  });
}

/** The response's pieces, ending cleanly (and reporting why) when the connection breaks. */
function endsOnBreak(response: IncomingMessage, onBreak: (error: unknown) => void): Readable {
  const body = new PassThrough({ highWaterMark: pieceBytes });
  const broken = (error: unknown) => {
    onBreak(error);
    response.unpipe(body);
    body.end();
  };
  response.once("error", broken);
  response.once("close", () => {
    if (!response.complete) broken(new Error("the connection closed before the body was complete"));
  });
  body.once("close", () => response.destroy());
  response.pipe(body);
  return body;
}
