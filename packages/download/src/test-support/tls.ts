import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { RequestListener } from "node:http";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";

const fixtures = new URL("../test-fixtures/", import.meta.url);
const certificate = new URL("localhost-cert.pem", fixtures);

/** An https server on loopback with the test certificate (for `localhost`), and its base URL. */
export async function tlsServer(
  listener: RequestListener,
): Promise<{ server: Server; url: string }> {
  const server = createServer(
    { cert: readFileSync(certificate), key: readFileSync(new URL("localhost-key.pem", fixtures)) },
    listener,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `https://localhost:${(server.address() as AddressInfo).port}` };
}

/**
 * Runs `body` (module code that has `downloadTransport` and `defaultDeadlines` in scope) in a
 * process that trusts the test certificate, as NODE_EXTRA_CA_CERTS does for a private CA;
 * resolves with what it printed.
 */
export async function inTrustingProcess(body: string): Promise<string> {
  const module = (name: string) => JSON.stringify(new URL(`../${name}`, import.meta.url).pathname);
  const script = `
    import { downloadTransport } from ${module("transport.ts")};
    import { defaultDeadlines } from ${module("deadlines.ts")};
    ${body}`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "--eval", script],
    { env: { ...process.env, NODE_EXTRA_CA_CERTS: certificate.pathname }, timeout: 30_000 },
  );
  return stdout.trim();
}
