import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { defaultDeadlines } from "./deadlines.js";
import { inTrustingProcess, tlsServer } from "./test-support/tls.js";
import type { Limits } from "./deadlines.js";
import { DownloadError } from "./errors.js";
import { downloadTransport } from "./transport.js";
import type { Download } from "./transport.js";

/**
 * Servers that break the rules on purpose, on raw sockets on loopback: every one must end the
 * download with a typed error, in bounded time, without taking the process down.
 */
const servers: Array<Server | import("node:https").Server> = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((r) => server.close(r))));
});

async function rawServer(answer: (socket: Socket, connection: number) => void): Promise<string> {
  let connections = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    const connection = connections++;
    socket.once("data", () => answer(socket, connection));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Short deadlines, so that each slow pattern fails within a second. */
const quick: Limits = { headMs: 400, minBytesPerSecond: 1_000, rateWindowMs: 300 };

/** Writes `pieces` one after another, `everyMs` apart, while the socket is open. */
function trickle(socket: Socket, pieces: string[], everyMs: number) {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= pieces.length) return clearInterval(timer);
    socket.write(pieces[at++]!);
  }, everyMs);
  socket.once("close", () => clearInterval(timer));
}

async function readAll(download: Download): Promise<number> {
  let bytes = 0;
  await download.read((piece) => void (bytes += piece.byteLength));
  return bytes;
}

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return error as DownloadError;
}

describe("the download transport against hostile servers", () => {
  it.each([1_000, 60_000])(
    "refuses a flood of %i interim answers in one read without growing the stack",
    async (count) => {
      const base = await rawServer((socket) =>
        socket.end(`${"HTTP/1.1 100 Continue\r\n\r\n".repeat(count)}HTTP/1.1 200 OK\r\n\r\n`),
      );
      const error = await failure(downloadTransport(undefined, defaultDeadlines)(`${base}/a`, 0));
      expect(error.code).toBe("ERR_DOWNLOAD_PROTOCOL");
      expect(error.message).toMatch(/more than 16 interim answers/);
    },
  );

  it("takes a few interim answers, and refuses a switch of protocols it did not ask for", async () => {
    const few = await rawServer((socket) =>
      socket.end(`${"HTTP/1.1 103 Early Hints\r\n\r\n".repeat(5)}HTTP/1.1 200 OK\r\n\r\nbody`),
    );
    const download = await downloadTransport(undefined, defaultDeadlines)(`${few}/a`, 0);
    expect(await readAll(download)).toBe(4);
    const upgrade = await rawServer((socket) =>
      socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
    );
    const error = await failure(downloadTransport(undefined, defaultDeadlines)(`${upgrade}/a`, 0));
    expect(error.code).toBe("ERR_DOWNLOAD_PROTOCOL");
  });

  it.each([
    [
      "a head sent a byte at a time",
      (socket: Socket) => trickle(socket, [..."HTTP/1.1 200 OK\r\nX: yyyyyyyyyyyy\r\n\r\n"], 50),
    ],
    [
      "an interim answer every 100 ms",
      (socket: Socket) => trickle(socket, Array(100).fill("HTTP/1.1 100 Continue\r\n\r\n"), 100),
    ],
    ["no answer at all", () => undefined],
  ])("ends %s at the head's deadline", async (_name, behave) => {
    const base = await rawServer(behave);
    // The trickles would take 2 s and 10 s: the deadline, not the server, ends them.
    const error = await failure(downloadTransport(undefined, quick)(`${base}/a`, 0));
    expect(error.code).toBe("ERR_DOWNLOAD_TIMEOUT");
    expect(error.message).toMatch(/no complete answer within 0\.4 s/);
  });

  it.each([
    ["a body a byte every 100 ms", (socket: Socket) => trickle(socket, Array(200).fill("x"), 100)],
    ["a body that stops half-way", (socket: Socket) => socket.write("x".repeat(500))],
  ])("cuts off %s below the minimum rate, keeping what came", async (_name, sendBody) => {
    const base = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      sendBody(socket);
    });
    const download = await downloadTransport(undefined, quick)(`${base}/a`, 0);
    const bytes = await readAll(download);
    expect(bytes).toBeLessThan(1000);
    expect(download.broke()).toMatchObject({
      code: "ERR_DOWNLOAD_TIMEOUT",
      message: expect.stringMatching(/below the minimum of 1000 bytes\/s/),
    });
  });

  it("keeps a body that arrives slowly but above the minimum rate", async () => {
    const base = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n");
      trickle(socket, Array(30).fill("x".repeat(100)), 20);
    });
    const download = await downloadTransport(undefined, quick)(`${base}/a`, 0);
    expect(await readAll(download)).toBe(3000);
    expect(download.broke()).toBeUndefined();
  });

  it.each([
    [
      "a head too large",
      "HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(20_000),
      "ERR_DOWNLOAD_PROTOCOL",
    ],
    [
      "an invalid Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
      "ERR_DOWNLOAD_PROTOCOL",
    ],
    [
      "a Content-Length with a sign",
      "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
      "ERR_DOWNLOAD_PROTOCOL",
    ],
    ["a reset before the head", "", "ERR_DOWNLOAD_NETWORK"],
    ["a head cut short", "HTTP/1.1 200 OK\r\nContent-Le", "ERR_DOWNLOAD_NETWORK"],
    [
      "a redirect to nowhere",
      "HTTP/1.1 302 Found\r\nLocation: http://[::\r\n\r\n",
      "ERR_DOWNLOAD_URL",
    ],
    [
      "a redirect to another scheme",
      "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n\r\n",
      "ERR_DOWNLOAD_URL",
    ],
    [
      "a redirect to itself, for ever",
      "HTTP/1.1 302 Found\r\nLocation: /a\r\n\r\n",
      "ERR_DOWNLOAD_URL",
    ],
  ])("fails on %s with a DownloadError and its code", async (_name, text, code) => {
    const base = await rawServer((socket) =>
      text === "" ? socket.resetAndDestroy() : socket.end(text),
    );
    const error = await failure(downloadTransport(undefined, defaultDeadlines)(`${base}/a`, 0));
    expect(error.code).toBe(code);
  });

  it("fails on a refused connection with ERR_DOWNLOAD_NETWORK, naming the host and errno", async () => {
    const base = await rawServer(() => undefined);
    await Promise.all(servers.splice(0).map((server) => new Promise((r) => server.close(r))));
    const error = await failure(downloadTransport(undefined, defaultDeadlines)(`${base}/a`, 0));
    expect(error.code).toBe("ERR_DOWNLOAD_NETWORK");
    expect(error.message).toContain(new URL(base).host);
    expect(error.message).toContain("ECONNREFUSED");
    expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("refuses a redirect from https to http, through a fetch and over its own transport", async () => {
    const plain = await rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\n\r\nclear"));
    // A fetch follows redirects itself: where it ended is checked.
    const followed = async () => {
      const response = new Response("clear");
      Object.defineProperty(response, "redirected", { value: true });
      Object.defineProperty(response, "url", { value: `${plain}/a` });
      return response;
    };
    const error = await failure(
      downloadTransport(followed, defaultDeadlines)("https://cdn.example/a", 0),
    );
    expect(error).toMatchObject({
      code: "ERR_DOWNLOAD_URL",
      message: expect.stringMatching(/https to plain http/),
    });
    // Its own transport, in a process that trusts the test certificate.
    const { server, url } = await tlsServer((_request, response) =>
      response.writeHead(302, { location: `${plain}/a` }).end(),
    );
    servers.push(server);
    const stdout = await inTrustingProcess(`
      await downloadTransport(undefined, defaultDeadlines)(${JSON.stringify(`${url}/a`)}, 0).then(
        () => console.log("followed"),
        (error) => console.log(error.code, error.message),
      );`);
    expect(stdout).toMatch(/^ERR_DOWNLOAD_URL .*https to plain http/);
  });

  it("wraps a fetch that rejects as ERR_DOWNLOAD_NETWORK, and one too slow as a timeout", async () => {
    const refused = downloadTransport(async () => {
      throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
    }, defaultDeadlines);
    expect(await failure(refused("https://cdn.example/a", 0))).toMatchObject({
      code: "ERR_DOWNLOAD_NETWORK",
    });
    const slow = downloadTransport(
      (_url, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)),
        ),
      quick,
    );
    expect(await failure(slow("https://cdn.example/a", 0))).toMatchObject({
      code: "ERR_DOWNLOAD_TIMEOUT",
    });
  });
});
