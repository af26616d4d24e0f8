import { createServer } from "node:http";
import type { Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createNotificationHandler, signNotification } from "./index.js";
import { nodeListener } from "./node.js";
import type { FetchHandler } from "./node.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: FetchHandler, onError?: (error: unknown) => void): Promise<number> {
  const server = createServer(nodeListener(handler, onError ? { onError } : {}));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** The status line's code of the answer to `text`, written as it is on a new connection. */
function rawStatus(port: number, text: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let received = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const done = () => {
      socket.destroy();
      resolve(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
    };
    const timer = setTimeout(done, 1_000);
    socket.on("data", (data) => {
      received += data.toString("latin1");
      if (received.includes("\r\n\r\n")) {
        clearTimeout(timer);
        done();
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      done();
    });
  });
}

describe("nodeListener", () => {
  it("answers requests a Request cannot carry, and keeps serving", async () => {
    const port = await serve(async (request) => new Response(`${request.method} ${request.url}`));
    // Node's own parser answers some (an unknown method, a bad header): 400 all the same.
    const cases: Array<[string, string]> = [
      ["TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", "405"],
      ["TRACK / HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      ["trace / HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      ["GET http://elsewhere.example/x HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      ["OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      ["GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "200"],
      ["GET / HTTP/1.1\r\nHost: x\r\nX-Bad\u0001: 1\r\n\r\n", "400"],
      [
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "400",
      ],
    ];
    for (const [text, status] of cases) expect(await rawStatus(port, text), text).toBe(status);
    const answer = await fetch(`http://127.0.0.1:${port}/still?here=1`);
    expect(await answer.text()).toBe(`GET http://127.0.0.1:${port}/still?here=1`);
  });

  it("builds each URL from the Host header, never letting the target change the host", async () => {
    const port = await serve(
      async (request) => new Response(null, { headers: { "x-url": request.url } }),
    );
    const urlOf = async (head: string) => {
      const answer = await new Promise<string>((resolve) => {
        let received = "";
        const socket = connect(port, "127.0.0.1", () => socket.write(`${head}\r\n\r\n`));
        socket.on("data", (data) => (received += data.toString()));
        socket.on("end", () => resolve(received));
        socket.on("error", () => resolve(received));
        setTimeout(() => socket.destroy(), 500);
        socket.on("close", () => resolve(received));
      });
      return /\r\nx-url: (\S+)\r\n/i.exec(answer)?.[1];
    };
    expect(await urlOf("GET /a HTTP/1.1\r\nHost: apps.example.com\r\nConnection: close")).toBe(
      "http://apps.example.com/a",
    );
    expect(
      await urlOf("GET //evil.example/x HTTP/1.1\r\nHost: apps.example.com\r\nConnection: close"),
    ).toBe("http://apps.example.com//evil.example/x");
    expect(await urlOf("GET /a HTTP/1.1\r\nHost: bad host/x\r\nConnection: close")).toBe(
      "http://localhost/a",
    );
  });

  it("answers 500 when the handler throws or rejects, and tells onError", async () => {
    const errors: unknown[] = [];
    let call = 0;
    const port = await serve(
      ((request: Request) => {
        if (++call === 1) throw new Error("thrown");
        if (call === 2) return Promise.reject(new Error("rejected"));
        return Promise.resolve(new Response(request.method));
      }) as FetchHandler,
      (error) => errors.push(error),
    );
    const url = `http://127.0.0.1:${port}/`;
    expect((await fetch(url)).status).toBe(500);
    expect((await fetch(url)).status).toBe(500);
    expect(await (await fetch(url, { method: "PUT", body: "x" })).text()).toBe("PUT");
    expect(errors.map((error) => (error as Error).message)).toEqual(["thrown", "rejected"]);
  });

  it("writes every Set-Cookie and streams the body; a client gone mid-body is let go", async () => {
    const port = await serve(async (request) => {
      if (new URL(request.url).pathname === "/endless") {
        let sent = 0;
        return new Response(
          new ReadableStream({
            pull(controller) {
              controller.enqueue(new Uint8Array(64 * 1024));
              if (++sent > 10_000) controller.close();
            },
          }),
        );
      }
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response("hello", { headers });
    });
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    expect(answer.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await answer.text()).toBe("hello");
    const endless = await fetch(`http://127.0.0.1:${port}/endless`);
    const reader = endless.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });

  it("serves the notification handler: a body cut off half-way is a 500, not a crash", async () => {
    const secret = "a webhook secret";
    const handle = createNotificationHandler({ secret, onNotification: () => undefined });
    const port = await serve(handle);
    const body = JSON.stringify({
      data: {
        type: "AppUnavailable",
        id: "n-1",
        attributes: { marketplaceAppId: "1", appId: "2" },
      },
    });
    const signature = await signNotification(body, secret);
    const head = `POST / HTTP/1.1\r\nHost: x\r\nx-apple-signature: ${signature}\r\n`;
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(`${head}Content-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`);
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on("close", () => resolve());
      socket.on("error", () => undefined);
    });
    const answer = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { "x-apple-signature": signature },
      body,
    });
    expect(answer.status).toBe(200);
  });
});
