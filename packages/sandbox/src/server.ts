import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { fileStorage } from "./node/file-storage.js";
import { createSandboxCore } from "./sandbox.js";
import type { CreateSandboxOptions, Outcome, SandboxHandler } from "./sandbox.js";

/** Options of {@link startSandbox}: those of `createSandbox`, and where to listen. */
export interface SandboxOptions extends Omit<CreateSandboxOptions, "baseUrl"> {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Keep state in this JSON file (each change durable before it is answered). */
  dataFile?: string;
}

/** A running sandbox: the handler's controls, served over HTTP at `url`. */
export interface Sandbox extends Omit<SandboxHandler, "fetch" | "handle"> {
  /** The base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  /** Stops listening, closes every connection, and waits for saves under way. */
  stop(): Promise<void>;
}

/**
 * Serves a sandbox (see `createSandbox`) over HTTP on loopback: for demos, the CLI's
 * `asc-kit sandbox`, and tests in other processes or languages.
 *
 * @example
 * ```ts
 * import { startSandbox } from "@asc-kit/sandbox";
 * import { createAppStoreConnectClient } from "@asc-kit/core";
 *
 * const sandbox = await startSandbox();
 * const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
 * // …
 * await sandbox.stop();
 * ```
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { port, host, dataFile, ...rest } = options;
  let url = "";
  const core = await createSandboxCore(
    { ...rest, ...(dataFile ? { storage: await fileStorage(dataFile) } : {}) },
    () => url,
  );
  const server = createServer((request, response) => {
    serve(request, response).catch(() => {
      if (response.headersSent) return void response.destroy();
      response.writeHead(500, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          errors: [
            {
              status: "500",
              code: "UNEXPECTED_ERROR",
              title: "An unexpected error occurred.",
              detail: "The sandbox failed to handle this request.",
            },
          ],
        }),
      );
    });
  });
  // Longer than any client's idle timeout, so that the server never closes a kept-alive
  // connection while a client is sending on it (a reset the client cannot tell from a fault).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const webRequest = new Request(`${url}/`, {
      method,
      headers: headersOf(request),
      ...(hasBody
        ? { body: Readable.toWeb(request) as ReadableStream<Uint8Array>, duplex: "half" }
        : {}),
    } as RequestInit);
    const outcome = await core.respond(webRequest, request.url ?? "/");
    await write(outcome, request, response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A deep backlog: a burst of new connections waits rather than being refused.
    server.listen({ port: port ?? 0, host: host ?? "127.0.0.1", backlog: 4096 }, resolve);
  });
  const address = server.address() as AddressInfo;
  const hostName = address.family === "IPv6" ? `[${address.address}]` : address.address;
  url = `http://${hostName}:${address.port}`;

  return {
    ...core.controls,
    url,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.controls.flush().catch(() => undefined);
    },
  };
}

function headersOf(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

async function write(outcome: Outcome, request: IncomingMessage, response: ServerResponse) {
  if (outcome.kind === "reset") return void request.socket.destroy();
  const { status, headers, body } = outcome.response;
  const head: Record<string, string> = Object.fromEntries(headers);
  if (outcome.kind === "truncated") {
    // Half of the declared length (or of the whole body, for answers that declare none).
    const declared = headers.get("content-length");
    const bytes = declared === null ? new Uint8Array(await outcome.response.arrayBuffer()) : null;
    const length = bytes ? bytes.byteLength : Number(declared);
    response.writeHead(status, { ...head, "content-length": String(length) });
    if (bytes) response.write(bytes.slice(0, Math.floor(length / 2)));
    else if (body) await copy(body, response, Math.floor(length / 2));
    return void request.socket.destroy();
  }
  response.writeHead(status, head);
  if (request.method === "HEAD" || !body) {
    await body?.cancel();
    return void response.end();
  }
  await copy(body, response, Number.POSITIVE_INFINITY);
  response.end();
}

/**
 * Writes up to `limit` bytes of a Web body to the response as the client takes them: an asset
 * of hundreds of megabytes streams with a few pieces in memory, never whole.
 */
async function copy(body: ReadableStream<Uint8Array>, response: ServerResponse, limit: number) {
  const reader = body.getReader();
  let written = 0;
  try {
    while (written < limit) {
      const { done, value } = await reader.read();
      if (done) return;
      const piece = value.byteLength > limit - written ? value.subarray(0, limit - written) : value;
      written += piece.byteLength;
      if (!response.write(piece)) {
        if (response.destroyed) return;
        await new Promise<void>((resolve) => {
          const go = () => {
            response.off("drain", go);
            response.off("close", go);
            resolve();
          };
          response.on("drain", go);
          response.on("close", go);
        });
      }
      if (response.destroyed) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
