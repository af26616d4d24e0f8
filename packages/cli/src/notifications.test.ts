import { spawn } from "node:child_process";
import { connect } from "node:net";
import { signNotification } from "@asc-kit/notifications";
import { describe, expect, it } from "vitest";
import { bin } from "./test-support/binary.js";

describe("asc-kit notifications listen", () => {
  it("prints each verified notification once, and refuses a forged one", async () => {
    const secret = "a webhook secret";
    const child = spawn(
      process.execPath,
      [bin, "notifications", "listen", "--secret-env", "HOOK_SECRET"],
      {
        env: { PATH: process.env.PATH, HOOK_SECRET: secret },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      let stderr = "";
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      const url = await new Promise<string>((resolve) =>
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          const found = /listening on (\S+)/.exec(stderr)?.[1];
          if (found) resolve(found);
        }),
      );
      const body = JSON.stringify({
        data: {
          type: "AppUnavailable",
          id: "n-9",
          attributes: { marketplaceAppId: "1", appId: "6476788026" },
        },
      });
      const send = async (signedWith: string) =>
        (
          await fetch(url, {
            method: "POST",
            headers: { "x-apple-signature": await signNotification(body, signedWith) },
            body,
          })
        ).status;
      expect(await send(secret)).toBe(200);
      expect(await send(secret)).toBe(200);
      expect(await send("not the secret")).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ type: "appUnavailable", id: "n-9" });
      expect(stderr).toMatch(/refused: answered 401 \(ERR_SIGNATURE_MISMATCH: /);
      expect(stdout + stderr).not.toContain(secret);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("answers every request however malformed, says why in its log, and keeps serving", async () => {
    const secret = "a webhook secret";
    const { url, output, stop } = await listen(secret);
    try {
      const { port } = new URL(url);
      const raw = (text: string, closeAfterMs?: number) =>
        rawExchange(Number(port), text, closeAfterMs);
      const statusOf = (answer: string) => /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      // Methods a Request cannot carry, targets that are not paths.
      for (const method of ["TRACE", "TRACK", "trace"]) {
        expect(statusOf(await raw(`${method} / HTTP/1.1\r\nHost: x\r\n\r\n`))).toMatch(/^4/);
      }
      for (const target of ["http://elsewhere.example/", "*", "//"]) {
        const answer = await raw(`OPTIONS ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
        expect(statusOf(answer)).toMatch(/^4/);
      }
      expect(statusOf(await raw("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n"))).not.toBe("200");
      expect(statusOf(await raw("GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n"))).toBe("400");
      // A body that never arrives whole: the client goes away half-way.
      await raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"data"', 100);
      const body = JSON.stringify({ data: { type: "AppUnavailable", id: "n-1", attributes: {} } });
      const post = (headers: Record<string, string>, content: string = body) =>
        fetch(url, { method: "POST", headers, body: content }).then((answer) => answer.status);
      expect(await post({})).toBe(401);
      expect(await post({ "x-apple-signature": "hmacsha256=zz" })).toBe(401);
      expect(await post({ "x-apple-signature": await signNotification(body, "another") })).toBe(
        401,
      );
      const notJson = "not json at all";
      expect(
        await post({ "x-apple-signature": await signNotification(notJson, secret) }, notJson),
      ).toBe(400);
      expect(await post({}, "x".repeat(70_000))).toBe(413);
      expect(await fetch(url).then((answer) => answer.status)).toBe(405);
      // Still serving.
      const good = JSON.stringify({
        data: {
          type: "AppUnavailable",
          id: "n-2",
          attributes: { marketplaceAppId: "1", appId: "2" },
        },
      });
      expect(await post({ "x-apple-signature": await signNotification(good, secret) }, good)).toBe(
        200,
      );
      const log = output().stderr;
      for (const code of [
        "ERR_SIGNATURE_MISSING",
        "ERR_SIGNATURE_MALFORMED",
        "ERR_SIGNATURE_MISMATCH",
        "ERR_PAYLOAD_INVALID",
        "ERR_BODY_TOO_LARGE",
        "ERR_METHOD_NOT_ALLOWED",
      ]) {
        expect(log).toContain(code);
      }
      expect(log).not.toContain(secret);
      expect(log).not.toContain(notJson);
      expect(output().stdout).toContain('"n-2"');
    } finally {
      stop();
    }
  });
});

/** Runs `asc-kit notifications listen` with the secret in its environment. */
async function listen(secret: string) {
  const child = spawn(process.execPath, [bin, "notifications", "listen", "--secret-env", "S"], {
    env: { PATH: process.env.PATH, S: secret },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /listening on (\S+)/.exec(stderr)?.[1];
      if (found) resolve(found);
    });
  });
  child.removeAllListeners("exit");
  child.once("exit", (code) => {
    if (code !== null) stderr += `\nexited on its own with ${code}`;
  });
  return { url, output: () => ({ stdout, stderr }), stop: () => child.kill("SIGTERM") };
}

/** Writes `text` on a new connection; resolves with what came back once it closes or goes quiet. */
function rawExchange(port: number, text: string, closeAfterMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const done = () => {
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, closeAfterMs);
    socket.on("data", (data) => {
      received += data.toString("latin1");
      if (/\r\n\r\n/.test(received)) {
        clearTimeout(timer);
        setTimeout(done, 20);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}
