import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

/** What a Web fetch handler is: `createNotificationHandler`'s result, or any other. */
export type FetchHandler = (request: Request) => Promise<Response>;

export interface NodeListenerOptions {
  /** Told of what failed where the answer could only be an error status. Default: nothing. */
  onError?: (error: unknown) => void;
  /**
   * The origin every `Request` URL gets, such as `https://apps.example.com` behind a TLS proxy.
   * Default: the request's `Host` header, over `https` on a TLS socket and `http` otherwise.
   */
  origin?: string;
}

/** Methods a `Request` cannot carry (the Fetch standard forbids them). */
const forbiddenMethods = /^(?:CONNECT|TRACE|TRACK)$/i;

/**
 * A request listener for Node's `http` (and `https`) servers that hands every request to a Web
 * fetch handler and writes its answer. Whatever arrives, it answers and the server keeps
 * serving: a method a `Request` cannot carry is 405, a target or header it cannot take is 400,
 * a handler that throws is 500, a client that goes away mid-answer is let go.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createNotificationHandler } from "@asc-kit/notifications";
 * import { nodeListener } from "@asc-kit/notifications/node";
 *
 * const handle = createNotificationHandler({
 *   secret: process.env.WEBHOOK_SECRET!,
 *   onNotification: (notification) => console.log(notification.type, notification.id),
 * });
 * createServer(nodeListener(handle)).listen(8080, "127.0.0.1");
 * ```
 */
export function nodeListener(
  handler: FetchHandler,
  options: NodeListenerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  if (typeof handler !== "function") throw new TypeError("nodeListener needs a fetch handler.");
  return (request, response) => {
    response.on("error", () => undefined);
    let webRequest: Request;
    try {
      webRequest = toRequest(request, options.origin);
    } catch {
      request.resume();
      const status = forbiddenMethods.test(request.method ?? "") ? 405 : 400;
      return void response.writeHead(status, { connection: "close" }).end();
    }
    let answered: Promise<Response>;
    try {
      answered = Promise.resolve(handler(webRequest));
    } catch (error) {
      answered = Promise.reject(error);
    }
    answered.then(
      (answer) => write(answer, response),
      (error) => {
        options.onError?.(error);
        if (response.headersSent) return void response.destroy();
        response.writeHead(500).end();
      },
    );
  };
}

/** A host name and port as a `Host` header may give them; anything else is not used. */
const hostHeader = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function toRequest(request: IncomingMessage, origin: string | undefined): Request {
  const target = request.url ?? "";
  // Origin-form only: an absolute or `*` target is not a path this server serves.
  if (!target.startsWith("/")) throw new TypeError("the request target is not a path");
  const host = request.headers.host;
  const scheme = (request.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  const base = origin ?? `${scheme}://${host && hostHeader.test(host) ? host : "localhost"}`;
  // Joined as text: resolved against the base, a target such as `//elsewhere/x` would change the host.
  const url = new URL(`${base}${target}`);
  const headers = new Headers();
  for (let at = 0; at + 1 < request.rawHeaders.length; at += 2) {
    headers.append(request.rawHeaders[at]!, request.rawHeaders[at + 1]!);
  }
  const method = request.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (hasBody) {
    init.body = Readable.toWeb(request) as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(url, init);
}

async function write(answer: Response, response: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  answer.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = answer.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  response.writeHead(answer.status, headers);
  if (!answer.body) return void response.end();
  const body = Readable.fromWeb(answer.body as import("node:stream/web").ReadableStream);
  body.on("error", () => response.destroy());
  body.pipe(response);
}
