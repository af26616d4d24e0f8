import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { importSPKI, jwtVerify, decodeProtectedHeader } from "jose";

/** One request as the test server saw it, with its token checked independently of the client. */
export interface SeenRequest {
  method: string;
  url: URL;
  body: string;
  token: string | undefined;
  /** The verified claims, or why verification failed. */
  claims: Record<string, unknown> | undefined;
  header: Record<string, unknown> | undefined;
  tokenError: string | undefined;
}

export type Handler = (
  request: SeenRequest,
  response: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

/**
 * A loopback HTTP server for client tests. Every token is verified with jose against the
 * public key, outside the client's code; the test decides each answer.
 */
export async function startTestServer(publicKeyPem: string, handler: Handler) {
  const publicKey = await importSPKI(publicKeyPem, "ES256");
  const seen: SeenRequest[] = [];
  const server = createServer(async (raw, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of raw) chunks.push(chunk as Buffer);
    const token = raw.headers.authorization?.replace(/^Bearer /, "");
    const request: SeenRequest = {
      method: raw.method ?? "GET",
      url: new URL(raw.url ?? "/", "http://127.0.0.1"),
      body: Buffer.concat(chunks).toString("utf8"),
      token,
      claims: undefined,
      header: undefined,
      tokenError: token ? undefined : "no token",
    };
    if (token) {
      try {
        const verified = await jwtVerify(token, publicKey, {
          audience: "appstoreconnect-v1",
          algorithms: ["ES256"],
        });
        request.claims = verified.payload as Record<string, unknown>;
        request.header = decodeProtectedHeader(token) as Record<string, unknown>;
      } catch (error) {
        request.tokenError = (error as Error).message;
      }
    }
    seen.push(request);
    await handler(request, response, raw);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    distinctTokens: () => new Set(seen.map((request) => request.token)).size,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

export function errorJson(status: number, code: string, detail: string) {
  return { errors: [{ status: String(status), code, title: code, detail }] };
}

export function keyResource(id: string, publicKey: string, base: string) {
  return {
    type: "alternativeDistributionKeys",
    id,
    attributes: { publicKey },
    links: { self: `${base}/v1/alternativeDistributionKeys/${id}` },
  };
}
