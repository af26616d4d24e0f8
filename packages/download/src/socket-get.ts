import { isIP, connect as tcpConnect } from "node:net";
import type { OnReadOpts, Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ConnectionOptions } from "node:tls";
import { ChunkedDecoder } from "./chunked.js";
import { headTimeout, watchRate } from "./deadlines.js";
import type { Limits } from "./deadlines.js";
import { DownloadError, networkError } from "./errors.js";
import type { Download } from "./transport.js";

/** An answer read off the socket, with where it redirects to, if it does. */
export interface SocketAnswer extends Download {
  location: string | undefined;
}

/** The most a response head may take. */
const maxHeadBytes = 64 * 1024;
/** Interim (1xx) answers taken before the real one; a server has no reason to send many. */
const maxInterimAnswers = 16;
/** The memory every read lands in, reused from one read to the next. */
const readBufferBytes = 1024 * 1024;
/**
 * Body bytes are handed on once this many wait in the read buffer, or once less than
 * `minRoom` is left in it: TLS delivers 16 KiB a read, and a write for each would cost more
 * than the bytes.
 */
const handOnBytes = 256 * 1024;
const minRoom = 64 * 1024;
const headEnd = Buffer.from("\r\n\r\n");

/**
 * GET `url` over a socket of its own (TLS for https), HTTP/1.1, one request per connection.
 * Node's `http` client allocates memory for every read and passes each piece through streams:
 * on a 256 MB asset that cost half of what curl reaches, where this reader, with one read
 * buffer reused from the first byte to the last, keeps pace with it (bench/RESULTS.md).
 *
 * Resolves once the head is in, with the socket paused until the body is read. A body is framed
 * by `Content-Length`, by `Transfer-Encoding: chunked` (decoded as its bytes are handed on) or by
 * the end of the connection. The head must be in within `limits.headMs`, and the body, once
 * read, must keep up `limits.minBytesPerSecond`. Every failure is a `DownloadError`.
 */
export function socketGet(
  url: URL,
  headers: Record<string, string>,
  limits: Limits,
): Promise<SocketAnswer> {
  const buffer = Buffer.allocUnsafe(readBufferBytes);
  /**
   * Where the next read lands. Body bytes from `pending` to it are not handed on yet; the
   * buffer starts over only within a read's callback, as the runtime asks for the next one.
   */
  let fill = 0;
  let pending = 0;
  /** Body bytes yet to arrive; `undefined` before the head, or for a body without a length. */
  let toCome: number | undefined;
  let chunked: ChunkedDecoder | undefined;
  let answer: SocketAnswer | undefined;
  /** Body bytes that came in the same read as the head. */
  let early: Buffer | undefined;
  let onPiece: ((piece: Uint8Array) => void) | undefined;
  let settle: ((error?: unknown) => void) | undefined;
  let broke: DownloadError | undefined;
  let closed = false;
  let finished = false;
  let interimAnswers = 0;
  let rate: ReturnType<typeof watchRate> | undefined;

  return new Promise<SocketAnswer>((resolve, reject) => {
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    // Every read lands in `buffer`, from `fill` on (TLS sockets take the option too).
    const onread: OnReadOpts = { buffer: () => buffer.subarray(fill), callback: received };
    const socket: Socket =
      url.protocol === "https:"
        ? tlsConnect({
            host,
            port,
            ...(isIP(host) ? {} : { servername: host }),
            ALPNProtocols: ["http/1.1"],
            onread,
          } as ConnectionOptions)
        : tcpConnect({ host, port, onread });
    const headTimer = setTimeout(
      () => socket.destroy(headTimeout(url.host, limits)),
      limits.headMs,
    );
    socket.once("error", (error) => {
      if (answer) broke ??= networkError(url.host, error);
      else reject(networkError(url.host, error));
    });
    socket.once("close", () => {
      clearTimeout(headTimer);
      rate?.stop();
      if (!answer) {
        return reject(
          new DownloadError(
            "ERR_DOWNLOAD_NETWORK",
            `The connection to ${url.host} closed before an answer.`,
          ),
        );
      }
      closed = true;
      if (onPiece) finish();
    });
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${lines.join("")}` +
        "Accept-Encoding: identity\r\nConnection: close\r\n\r\n",
    );

    function received(bytes: number): boolean {
      if (!answer) readHead(fill, bytes);
      else takeBody(bytes);
      return true;
    }

    function takeBody(bytes: number) {
      rate?.add(bytes);
      take(bytes);
      if (toCome === 0) return void socket.destroy();
      if (fill - pending < handOnBytes && buffer.length - fill >= minRoom) return;
      const error = handOn();
      if (error === undefined) fill = pending = 0;
      else fail(error);
    }

    /** Takes `bytes` more of the body, and no more than its length. */
    function take(bytes: number) {
      const counted = toCome === undefined ? bytes : Math.min(bytes, toCome);
      if (toCome !== undefined) toCome -= counted;
      fill += counted;
    }

    /**
     * Looks for the end of the head in what has arrived, from where the last look stopped; takes
     * interim answers one after another (a loop: a flood of them must not grow the stack).
     */
    function readHead(start: number, bytes: number): void {
      fill = start + bytes;
      let from = Math.max(0, start - 3);
      for (;;) {
        const at = buffer.subarray(0, fill).indexOf(headEnd, from);
        if (at < 0) {
          if (fill >= maxHeadBytes) socket.destroy(protocolError("the answer's head is too large"));
          return;
        }
        let head: ReturnType<typeof parseHead>;
        try {
          head = parseHead(buffer.toString("latin1", 0, at));
        } catch (error) {
          return void socket.destroy(error as Error);
        }
        const bodyStart = at + headEnd.length;
        if (head.status >= 200) return takeHead(head, bodyStart);
        if (head.status === 101 || ++interimAnswers > maxInterimAnswers) {
          const why =
            head.status === 101
              ? "switches protocols, unasked"
              : `sent more than ${maxInterimAnswers} interim answers`;
          return void socket.destroy(protocolError(`the answer ${why}`));
        }
        // An interim answer: the real one follows it.
        buffer.copyWithin(0, bodyStart, fill);
        fill -= bodyStart;
        from = 0;
      }
    }

    function takeHead(head: ReturnType<typeof parseHead>, bodyStart: number): void {
      clearTimeout(headTimer);
      const arrived = fill - bodyStart;
      toCome = head.length;
      if (head.chunked) chunked = new ChunkedDecoder();
      const counted = toCome === undefined ? arrived : Math.min(arrived, toCome);
      if (toCome !== undefined) toCome -= counted;
      // What came with the head is set aside: the buffer starts over for the body.
      if (counted > 0) early = Buffer.from(buffer.subarray(bodyStart, bodyStart + counted));
      fill = pending = 0;
      const taken: SocketAnswer = {
        status: head.status,
        length: head.length,
        location: head.location,
        broke: () => broke,
        read,
        cancel: () => socket.destroy(),
      };
      answer = taken;
      if (toCome === 0) socket.destroy();
      // Nothing more is read until the body is asked for.
      else socket.pause();
      resolve(taken);
    }

    /** Gives the reader the body bytes waiting in the buffer; returns what it threw, if it did. */
    function handOn(): unknown {
      if (!onPiece) return undefined;
      try {
        if (early) {
          const piece = early;
          early = undefined;
          onPiece(piece);
        }
        if (fill > pending) {
          const piece = buffer.subarray(pending, fill);
          pending = fill;
          onPiece(piece);
        }
      } catch (error) {
        return error;
      }
      return undefined;
    }

    function fail(error: unknown) {
      finished = true;
      rate?.stop();
      socket.destroy();
      settle?.(error);
    }

    function finish() {
      if (finished) return;
      finished = true;
      rate?.stop();
      const error = handOn();
      if (error === undefined && (chunked ? !chunked.done : toCome !== undefined && toCome > 0)) {
        broke ??= new DownloadError(
          "ERR_DOWNLOAD_NETWORK",
          `The connection to ${url.host} closed before the body was complete.`,
        );
      }
      settle?.(error);
    }

    /**
     * The reader behind a chunked decoder. Framing that breaks the rules ends the body as a
     * broken-off connection would; the reader's own errors go on as they are.
     */
    function decoded(decoder: ChunkedDecoder, reader: (piece: Uint8Array) => void) {
      let malformed = false;
      return (raw: Uint8Array) => {
        if (decoder.done || malformed) return;
        let inReader = false;
        try {
          decoder.push(raw, (data) => {
            inReader = true;
            reader(data);
            inReader = false;
          });
        } catch (error) {
          if (inReader) throw error;
          malformed = true;
          broke ??= protocolError((error as Error).message);
        }
        if (decoder.done || malformed) socket.destroy();
      };
    }

    function read(reader: (piece: Uint8Array) => void): Promise<void> {
      if (onPiece) return Promise.reject(new TypeError("The body is being read already."));
      return new Promise<void>((resolveRead, rejectRead) => {
        onPiece = chunked ? decoded(chunked, reader) : reader;
        settle = (error) => (error === undefined ? resolveRead() : rejectRead(error));
        if (closed) return finish();
        const error = handOn();
        if (error !== undefined) return fail(error);
        rate = watchRate(url.host, limits, (tooSlow) => socket.destroy(tooSlow));
        socket.resume();
      });
    }
  });
}

/** The status and the headers the transport decides on, refusing a head it cannot trust. */
function parseHead(text: string): {
  status: number;
  length: number | undefined;
  location: string | undefined;
  chunked: boolean;
} {
  const [statusLine = "", ...headerLines] = text.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)?.[1];
  if (status === undefined) throw protocolError("the answer is not HTTP/1.1");
  let length: number | undefined;
  let location: string | undefined;
  let chunked = false;
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw protocolError("the answer has a malformed header");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      const declared = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
      if (Number.isNaN(declared) || (length !== undefined && length !== declared)) {
        throw protocolError("the answer has an invalid Content-Length");
      }
      length = declared;
    } else if (name === "transfer-encoding") {
      // What the server may send when asked for no compression: chunks, or nothing.
      if (value.toLowerCase() !== "chunked") {
        throw protocolError(
          `the answer's Transfer-Encoding (${value.slice(0, 40)}) is not chunked`,
        );
      }
      chunked = true;
    } else if (name === "location") {
      location = value;
    }
  }
  return { status: Number(status), length: chunked ? undefined : length, location, chunked };
}

function protocolError(what: string): DownloadError {
  return new DownloadError("ERR_DOWNLOAD_PROTOCOL", `The server broke HTTP/1.1: ${what}.`);
}
