import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { forkOn } from "./affinity.ts";

export const listPage = JSON.stringify({
  data: [
    {
      type: "alternativeDistributionKeys",
      id: "52c5cb04-1163-4a30-ad4f-a3433cd6a4f6",
      attributes: { publicKey: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n" },
      links: { self: "https://api.appstoreconnect.apple.com/v1/alternativeDistributionKeys/52c5" },
    },
  ],
  links: { self: "https://api.appstoreconnect.apple.com/v1/alternativeDistributionKeys" },
  meta: { paging: { total: 1, limit: 50 } },
});

/** Messages between the bench and its server process. */
type Message = { listening: string } | { counting: true } | { tokens: number };

/**
 * Starts, in a process of its own (so that it does not share the event loop with the clients
 * being measured), a loopback server that answers every request like the list endpoint and,
 * when asked, counts the distinct Authorization headers it sees: the signatures a client made.
 * Given `cpus`, it runs on those CPUs alone.
 */
export async function startListServer(cpus?: string) {
  const child = fork(fileURLToPath(import.meta.url), ["--serve"], {
    ...forkOn(cpus, process.execPath, ["--import", "tsx"]),
    stdio: "inherit",
  });
  const next = () =>
    new Promise<Message>((resolve) =>
      child.once("message", (message) => resolve(message as Message)),
    );
  const { listening } = (await next()) as { listening: string };
  return {
    url: listening,
    /** Starts counting distinct tokens. */
    async countTokens(): Promise<void> {
      const reply = next();
      child.send("count");
      await reply;
    },
    /** Distinct tokens seen since {@link countTokens}; counting stops. */
    async takeTokenCount(): Promise<number> {
      const reply = next();
      child.send("take");
      return ((await reply) as { tokens: number }).tokens;
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}

if (process.argv.includes("--serve")) {
  // Only while counting, so that the throughput rounds' requests add nothing to the server's
  // heap: the peers sign a token for each request under way when their process starts (32 at
  // concurrency 32), and reuse them after.
  let tokens: Set<string> | undefined;
  const server = createServer((request, response) => {
    if (tokens && request.headers.authorization) tokens.add(request.headers.authorization);
    response.writeHead(200, {
      "content-type": "application/json",
      "x-rate-limit": "user-hour-lim:3500;user-hour-rem:3499;",
    });
    response.end(listPage);
  });
  // A client's process is stopped (SIGSTOP) while the others' blocks run, for seconds: its idle
  // connections must outlive that. With Node.js's 5 s, the server closed them meanwhile, and the
  // client, resumed, wrote to a closed socket: a reset that a peer reported as a failed request
  // (appstore-connect-sdk on Node.js 20, on a fresh clone).
  server.keepAliveTimeout = 600_000;
  server.headersTimeout = 610_000;
  server.listen(0, "127.0.0.1", () =>
    process.send!({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
  );
  process.on("message", (message) => {
    if (message === "count") {
      tokens = new Set();
      process.send!({ counting: true });
    } else {
      process.send!({ tokens: tokens?.size ?? 0 });
      tokens = undefined;
    }
  });
}
