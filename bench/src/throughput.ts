/**
 * Requests per second of the asc-kit client against raw fetch with a ready-made token, on the
 * same loopback server, in the same run; openapi-fetch alone (same token, no retries, no
 * timeouts) is shown too, since the client is built on it. Rounds alternate between them so
 * that warm-up and machine noise fall on all alike; ratios are of medians.
 *
 *   pnpm bench [--requests 4000] [--concurrency 32] [--rounds 5]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { parseArgs } from "node:util";
import { createAppStoreConnectClient, createTokenProvider } from "@asc-kit/core";
import type { paths } from "@asc-kit/core";
import createClient from "openapi-fetch";
import { generateKeyPair } from "@asc-kit/pem";

const { values } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "4000" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "5" },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

const page = JSON.stringify({
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
const server = createServer((_request, response) => {
  response.writeHead(200, {
    "content-type": "application/json",
    "x-rate-limit": "user-hour-lim:3500;user-hour-rem:3499;",
  });
  response.end(page);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const { privateKeyPem } = await generateKeyPair();
const keyId = "BENCHKEY01";
const issuerId = "57246542-96fe-1a63-e053-0824d011072a";
const readyToken = await createTokenProvider({
  keyId,
  issuerId,
  privateKey: privateKeyPem,
}).getToken();
const client = createAppStoreConnectClient({ keyId, issuerId, privateKey: privateKeyPem, baseUrl });

async function rawFetch(): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/alternativeDistributionKeys?limit=50`, {
    headers: { Authorization: `Bearer ${readyToken}` },
  });
  await response.json();
}

const plainClient = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${readyToken}` },
});
async function openapiFetch(): Promise<void> {
  const { error } = await plainClient.GET("/v1/alternativeDistributionKeys", {
    params: { query: { limit: 50 } },
  });
  if (error) throw new Error("unexpected error response");
}

async function ascKit(): Promise<void> {
  const { error } = await client.GET("/v1/alternativeDistributionKeys", {
    params: { query: { limit: 50 } },
  });
  if (error) throw new Error("unexpected error response");
}

async function requestsPerSecond(call: () => Promise<void>): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < requests) {
      started++;
      await call();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return requests / ((performance.now() - start) / 1000);
}

const median = (numbers: number[]) =>
  [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

// Warm-up: JIT, connection pool, the client's first token.
await requestsPerSecond(rawFetch);
await requestsPerSecond(openapiFetch);
await requestsPerSecond(ascKit);
const raw: number[] = [];
const plain: number[] = [];
const kit: number[] = [];
for (let round = 0; round < rounds; round++) {
  raw.push(await requestsPerSecond(rawFetch));
  plain.push(await requestsPerSecond(openapiFetch));
  kit.push(await requestsPerSecond(ascKit));
}
server.close();

const ratio = median(kit) / median(raw);
const line = (name: string, values: number[]) =>
  console.log(
    `${name.padEnd(30)} ${median(values).toFixed(0)} req/s (rounds: ${values.map((value) => value.toFixed(0)).join(", ")})`,
  );
console.log(
  `Throughput on ${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores), Node ${process.version}, ${new Date().toISOString()}`,
);
console.log(
  `${requests} requests x ${rounds} rounds, concurrency ${concurrency}, loopback list endpoint`,
);
line("raw fetch, ready-made token", raw);
line("openapi-fetch alone", plain);
line("asc-kit client", kit);
console.log(`ratio asc-kit / raw fetch:       ${ratio.toFixed(3)} (target at least 0.95)`);
console.log(`ratio openapi-fetch / raw fetch: ${(median(plain) / median(raw)).toFixed(3)}`);
console.log(`ratio asc-kit / openapi-fetch:   ${(median(kit) / median(plain)).toFixed(3)}`);
