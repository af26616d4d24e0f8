import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { defaultDeadlines } from "./deadlines.js";
import { inTrustingProcess, tlsServer } from "./test-support/tls.js";
import { socketGet } from "./socket-get.js";
import { downloadTransport } from "./transport.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((r) => server.close(r))));
});

/** A server on loopback that answers every connection with `answer`, written as it is. */
async function rawServer(answer: (socket: Socket) => void): Promise<URL> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.once("data", () => answer(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/asset.ipa?key=1`);
}

const limits = { ...defaultDeadlines, headMs: 5_000 };
const get = (url: URL) => socketGet(url, {}, limits);

/** Reads the whole body, copying each piece (its memory is reused). */
async function body(answer: Awaited<ReturnType<typeof socketGet>>) {
  const pieces: Buffer[] = [];
  await answer.read((piece) => void pieces.push(Buffer.from(piece)));
  return Buffer.concat(pieces);
}

const bytes = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => i % 251));

describe("socketGet", () => {
  it("reads a body framed by Content-Length, whatever the pieces it arrives in", async () => {
    const payload = bytes(3_000_000);
    const url = await rawServer((socket) => {
      // The head and the first bytes in one write, then the rest in uneven pieces.
      socket.write(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`),
          payload.subarray(0, 10),
        ]),
      );
      for (let at = 10; at < payload.length; at += 70_001) {
        socket.write(payload.subarray(at, at + 70_001));
      }
      // Bytes past the length are not the body's.
      socket.end("garbage");
    });
    const answer = await get(url);
    expect(answer).toMatchObject({ status: 200, length: payload.length });
    expect((await body(answer)).equals(payload)).toBe(true);
    expect(answer.broke()).toBeUndefined();
  });

  it("sends the path, query, host and headers it is given, asking for no compression", async () => {
    let request = "";
    const url = await rawServer((socket) => socket.end("HTTP/1.1 204 No Content\r\n\r\n"));
    servers[0]!.on("connection", (socket) => socket.once("data", (data) => (request = `${data}`)));
    await get(url).then((answer) => answer.cancel());
    expect(request.split("\r\n")).toEqual(
      expect.arrayContaining([
        "GET /asset.ipa?key=1 HTTP/1.1",
        `Host: ${url.host}`,
        "Accept-Encoding: identity",
      ]),
    );
    await socketGet(url, { Range: "bytes=5-" }, limits).then((answer) => answer.cancel());
    expect(request).toContain("\r\nRange: bytes=5-\r\n");
  });

  it("skips an interim answer, and reads a body that ends with the connection", async () => {
    const url = await rawServer((socket) => {
      socket.write("HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\n");
      socket.end("\r\nall of it");
    });
    const answer = await get(url);
    expect(answer).toMatchObject({ status: 200, length: undefined });
    expect(`${await body(answer)}`).toBe("all of it");
    expect(answer.broke()).toBeUndefined();
  });

  it("reports a body cut short, after handing on every byte that came", async () => {
    const url = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      socket.end(bytes(600));
    });
    const answer = await get(url);
    expect((await body(answer)).equals(bytes(600))).toBe(true);
    expect(answer.broke()).toMatchObject({ message: expect.stringContaining("before the body") });
  });

  it("stops at the reader's error, closing the connection", async () => {
    let closed = false;
    const url = await rawServer((socket) => {
      socket.once("close", () => (closed = true));
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n");
      socket.write(bytes(500_000));
    });
    const answer = await get(url);
    const refusal = new Error("chunk 0 does not match");
    await expect(
      answer.read(() => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    await expect.poll(() => closed).toBe(true);
  });

  it.each([
    ["a head that never ends", "HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(20_000), /too large/],
    ["an answer that is not HTTP/1.1", "SSH-2.0-OpenSSH\r\n\r\n", /not HTTP\/1\.1/],
    ["a malformed header", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", /malformed header/],
    [
      "two lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      /invalid Content-Length/,
    ],
    [
      "a negative length",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      /invalid Content-Length/,
    ],
    ["no answer at all", "", /closed before an answer/],
  ])("refuses %s", async (_name, text, message) => {
    const url = await rawServer((socket) => socket.end(text));
    await expect(get(url)).rejects.toThrow(message);
  });

  it("decodes a chunked body", async () => {
    const whole = await rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
      setTimeout(() => socket.end("lo\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"), 20);
    });
    const answer = await get(whole);
    expect(answer).toMatchObject({ status: 200, length: undefined });
    expect(`${await body(answer)}`).toBe("hello, world");
    expect(answer.broke()).toBeUndefined();
  });

  it.each([
    ["stops before its last chunk", "5\r\nhello\r\n", "before the body"],
    ["breaks the rules", "5\r\nhello\r\nzz\r\nmore", "malformed chunk size"],
  ])(
    "ends a chunked body that %s as a broken-off one, after the good bytes",
    async (_what, chunks, message) => {
      const url = await rawServer((socket) =>
        socket.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`),
      );
      const answer = await get(url);
      expect(`${await body(answer)}`).toBe("hello");
      expect(answer.broke()).toMatchObject({ message: expect.stringContaining(message) });
    },
  );

  it("refuses a Transfer-Encoding other than chunked", async () => {
    const url = await rawServer((socket) =>
      socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
    );
    await expect(get(url)).rejects.toThrow(/Transfer-Encoding \(gzip, chunked\) is not chunked/);
  });
});

describe("the download transport without a fetch", () => {
  async function httpServer(handler: Parameters<typeof createHttpServer>[1]) {
    const server = createHttpServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("follows a redirect, and reads a file sent in chunks", async () => {
    const base = await httpServer((request, response) => {
      if (request.url === "/moved") return response.writeHead(302, { location: "/file" }).end();
      // No length: Node's server sends it chunked.
      response.write("hello, ");
      response.end("world");
    });
    const download = await downloadTransport(undefined, defaultDeadlines)(`${base}/moved`, 0);
    expect(download.status).toBe(200);
    const pieces: Buffer[] = [];
    await download.read((piece) => void pieces.push(Buffer.from(piece)));
    expect(`${Buffer.concat(pieces)}`).toBe("hello, world");
  });

  it("reads over TLS, checking the certificate against the trusted ones", async () => {
    const payload = bytes(2_000_000);
    const { server, url: base } = await tlsServer((_request, response) =>
      response.writeHead(200, { "content-length": payload.length }).end(payload),
    );
    servers.push(server);
    const url = `${base}/asset.ipa`;
    // This process does not trust the test certificate: the connection is refused.
    await expect(downloadTransport(undefined, defaultDeadlines)(url, 0)).rejects.toThrow(
      /self.signed|certificate/i,
    );
    // A process that trusts it reads the body.
    const printed = await inTrustingProcess(`
      import { createHash } from "node:crypto";
      const download = await downloadTransport(undefined, defaultDeadlines)(${JSON.stringify(url)}, 0);
      const hash = createHash("sha256");
      await download.read((piece) => hash.update(piece));
      console.log(download.status, hash.digest("hex"));`);
    const { createHash } = await import("node:crypto");
    expect(printed).toBe(`200 ${createHash("sha256").update(payload).digest("hex")}`);
  });
});
