import { Agent as HttpAgent, request as httpRequest } from "node:http";
import type { ClientRequest, IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { AppStoreConnectError } from "@asc-kit/errors";
import {
  TrackedRequest,
  alreadyRead,
  cutOff,
  invalidResponse,
  nullBodyStatuses,
  tooLarge,
} from "./retry.js";
import type { RequestFetch } from "./retry.js";

/** Options of {@link createNodeFetch}. */
export interface NodeFetchOptions {
  /**
   * The agents requests go through, for example a proxy's. Default: keep-alive agents of its
   * own, which {@link NodeFetch.close} closes.
   */
  agents?: { http?: HttpAgent; https?: HttpsAgent };
  /**
   * The largest body held in memory, in bytes, once decoded. Default 32 MiB, the client's own
   * default; the client's `maxResponseBytes` still applies on top. A larger body is an
   * `AppStoreConnectError` whose code is `INVALID_RESPONSE`.
   */
  maxResponseBytes?: number;
}

/** A {@link RequestFetch} over Node.js's own HTTP client, and a way to close its connections. */
export type NodeFetch = RequestFetch & {
  /** Closes the idle keep-alive connections of its own agents (not the agents it was given). */
  close(): void;
};

const defaultMaxResponseBytes = 32 * 1024 * 1024;
/** What fetch asks for; the codings it decodes. */
const acceptEncoding = "gzip, deflate, br";

/**
 * A fetch for the client on Node.js that sends each request with `node:http` or `node:https`
 * over keep-alive connections and reads the body itself into one buffer, handing it to the
 * client already read: no WHATWG stream is built for a body of a few kilobytes. On loopback it
 * serves more requests a second than the runtime's `fetch` (see bench/RESULTS.md).
 *
 * It behaves as the client expects of fetch: it never follows a redirect, decodes gzip,
 * deflate and brotli bodies, aborts the connection when the attempt's signal fires, and a
 * connection that breaks mid-body is an `INVALID_RESPONSE` that a GET tries again. It does not
 * use the runtime's global fetch settings (an undici dispatcher, a mock agent): give a proxy's
 * agent through `agents` instead.
 *
 * @example
 * ```ts
 * import { createAppStoreConnectClient } from "@asc-kit/core";
 * import { createNodeFetch } from "@asc-kit/core/node";
 *
 * const client = createAppStoreConnectClient({ keyId, issuerId, privateKey, fetch: createNodeFetch() });
 * ```
 */
export function createNodeFetch(options: NodeFetchOptions = {}): NodeFetch {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createNodeFetch takes an options object, or nothing.");
  }
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1) {
    throw new TypeError("maxResponseBytes must be a whole number of bytes, 1 or more.");
  }
  const own: HttpAgent[] = [];
  const ownAgent = <A extends HttpAgent>(agent: A) => (own.push(agent), agent);
  const http = options.agents?.http ?? ownAgent(new HttpAgent({ keepAlive: true }));
  const https = options.agents?.https ?? ownAgent(new HttpsAgent({ keepAlive: true }));

  const nodeFetch = async (request: Request, init?: Parameters<RequestFetch>[1]) => {
    // As fetch: the init's signal, or else the request's own (which nothing may abort).
    const signal = init?.signal ?? (TrackedRequest.abortable(request) ? request.signal : undefined);
    signal?.throwIfAborted();
    const url = new URL(request.url);
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TypeError(`createNodeFetch sends http and https requests, not ${url.protocol}`);
    }
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) headers[name] = value;
    headers["accept-encoding"] ??= acceptEncoding;
    if (body) headers["content-length"] = String(body.byteLength);
    signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        settle();
        outgoing.destroy();
        reject(error);
      };
      const onAbort = () => fail(signal!.reason);
      const onResponse = (incoming: IncomingMessage) => {
        const status = incoming.statusCode ?? 0;
        if (Number(incoming.headers["content-length"] ?? 0) > maxResponseBytes) {
          return fail(tooLarge(request, status, maxResponseBytes));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > maxResponseBytes) fail(tooLarge(request, status, maxResponseBytes));
          else chunks.push(chunk);
        });
        incoming.on("end", () => {
          if (settled) return;
          let response: Response;
          try {
            const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
            const bytes = decoded(raw, incoming.headers["content-encoding"], maxResponseBytes);
            response = responseOf(incoming, bytes, request);
          } catch (error) {
            if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
              return fail(tooLarge(request, status, maxResponseBytes));
            }
            // A body whose coding does not decode broke somewhere on the way, as a cut does.
            return fail(AppStoreConnectError.is(error) ? error : cutOff(request, status, error));
          }
          settle();
          resolve(response);
        });
        // Also a connection that closes before the body's end ("aborted"): the answer broke off.
        incoming.on("error", (error) => fail(cutOff(request, status, error)));
      };
      const outgoing: ClientRequest = (url.protocol === "https:" ? httpsRequest : httpRequest)(
        url,
        { method: request.method, headers, agent: url.protocol === "https:" ? https : http },
        onResponse,
      );
      // As fetch reports a request that got no response: a TypeError with the cause.
      outgoing.on("error", (error) => fail(new TypeError("fetch failed", { cause: error })));
      signal?.addEventListener("abort", onAbort, { once: true });
      outgoing.end(body);
    });
  };
  return Object.assign(nodeFetch, {
    close: () => {
      for (const agent of own) agent.destroy();
    },
  });
}

/** The body with its content codings undone, as fetch does; an unknown coding is left as is. */
function decoded(bytes: Buffer, codings: string | undefined, limit: number): Uint8Array {
  if (!codings) return bytes;
  const steps = codings
    .toLowerCase()
    .split(",")
    .map((coding) => coding.trim());
  if (steps.some((coding) => !decoders.has(coding))) return bytes;
  let body: Buffer = bytes;
  for (const coding of steps.reverse()) body = decoders.get(coding)!(body, limit);
  return body;
}

const decoders = new Map<string, (bytes: Buffer, limit: number) => Buffer>([
  ["identity", (bytes) => bytes],
  ["gzip", (bytes, limit) => gunzipSync(bytes, { maxOutputLength: limit })],
  ["x-gzip", (bytes, limit) => gunzipSync(bytes, { maxOutputLength: limit })],
  // "deflate" is meant zlib-wrapped, and some servers send it raw: the first byte tells.
  [
    "deflate",
    (bytes, limit) =>
      (bytes[0]! & 0x0f) === 8
        ? inflateSync(bytes, { maxOutputLength: limit })
        : inflateRawSync(bytes, { maxOutputLength: limit }),
  ],
  ["br", (bytes, limit) => brotliDecompressSync(bytes, { maxOutputLength: limit })],
]);

/** A Response of the incoming head, its body already read into `bytes`. */
function responseOf(incoming: IncomingMessage, bytes: Uint8Array, request: Request): Response {
  const status = incoming.statusCode ?? 0;
  if (status < 200 || status > 599) {
    throw invalidResponse(
      request,
      status,
      `The server answered with status ${status}, outside HTTP's 200 to 599.`,
    );
  }
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) headers.append(raw[index]!, raw[index + 1]!);
  const response = new Response(null, {
    status,
    statusText: incoming.statusMessage ?? "",
    headers,
  });
  const body = nullBodyStatuses.has(status) ? new Uint8Array(0) : bytes;
  return alreadyRead(response, body as Uint8Array<ArrayBuffer>, request);
}
