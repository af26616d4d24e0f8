import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";

/** What a receiver got: the exact body and its signature header. */
export interface Received {
  body: string;
  signature: string | undefined;
}

/** A notification receiver on loopback that records every POST and answers `status`. */
export async function startReceiver(status = 200) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const signature = request.headers["x-apple-signature"];
      received.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: Array.isArray(signature) ? signature[0] : signature,
      });
      response.writeHead(receiver.status).end(receiver.status === 200 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications`,
    received,
    status,
    /** The received bodies' `data`, parsed. */
    data: () =>
      received.map((item) => (JSON.parse(item.body) as { data: Record<string, any> }).data),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return receiver;
}

/**
 * A receiver on a raw socket that does what `onRequest` says once a request arrives (nothing,
 * for one that hangs); `close` drops every connection.
 */
export async function hangingServer(onRequest: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("data", () => onRequest(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
