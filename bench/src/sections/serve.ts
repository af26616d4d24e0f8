import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { accountTokens } from "@asc-kit/distribution";
import { postgresBinaries, startTestPostgres } from "@asc-kit/test-postgres";
import { compiledWorker } from "../compiled-worker.ts";
import { median, spread } from "../context.ts";
import type { BenchContext, Section } from "../context.ts";
import type {
  ServeServerMessage,
  ServeServerReady,
  ServeServerStart,
} from "../workers/serve-server.ts";

interface Round {
  /** Tokens handed out per second through restore. */
  served: number;
  /** The same requests answered with fixed tokens and no store, per second: HTTP's own ceiling. */
  floor: number;
  /** Tokens one signer signs per second in the same process, right after. */
  limit: number;
  p99Ms: number;
}

interface Case {
  store: "embedded" | "PostgreSQL";
  appsPerRequest: number;
  rounds: Round[];
  peakRssMB: number;
}

interface ServeFigures {
  cases: Case[];
  /** The embedded store's server RSS (MB) every 10,000 one-app requests, over 100,000. */
  rssOver100k: number[];
  postgres: "measured" | "skipped: PostgreSQL is not installed";
}

const concurrency = 32;
const accounts = 1000;

/** The server and how to talk to it, with bearer tokens for `accounts` accounts. */
async function startServer(
  context: BenchContext,
  store: Pick<ServeServerStart, "dataDir" | "databaseUrl">,
) {
  const script = await compiledWorker(context.workDir, "serve-server");
  const child = fork(script, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const secret = crypto.getRandomValues(new Uint8Array(32));
  child.send({
    privateKeyPem: context.privateKeyPem,
    tokenSecret: Buffer.from(secret).toString("hex"),
    ...store,
  });
  const ready = await reply<ServeServerReady>(child);
  const tokens = accountTokens(secret);
  const bearers = await Promise.all(
    Array.from({ length: accounts }, (_, index) => tokens.issue(`account-${index}`)),
  );
  return { child, ready, bearers };
}

function reply<T>(child: ChildProcess, message?: ServeServerMessage): Promise<T> {
  const answer = new Promise<T>((resolve, reject) => {
    child.once("message", (value) => resolve(value as T));
    child.once("exit", (code) => reject(new Error(`the serve worker exited (${code})`)));
  });
  if (message) child.send(message);
  return answer;
}

/** `requests` restores (to `path`), `concurrency` at a time; tokens per second and the p99. */
async function load(
  server: Awaited<ReturnType<typeof startServer>>,
  requests: number,
  apps: number,
  path = "/restore",
) {
  const body = JSON.stringify({
    apps: server.ready.apps.slice(0, apps).map((appleItemId) => ({ appleItemId })),
    platform: "iOS",
    osVersion: "18.2",
  });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < requests; index = next++) {
        const sent = performance.now();
        const response = await fetch(`${server.ready.url}${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${server.bearers[index % accounts]}`,
            "content-type": "application/json",
          },
          body,
        });
        const answer = (await response.json()) as { restores?: unknown[] };
        if (response.status !== 200 || answer.restores?.length !== apps)
          throw new Error(`restore answered ${response.status}`);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    served: (requests * apps) / seconds,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

async function peakRssMB(child: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

async function measureCases(
  context: BenchContext,
  store: Case["store"],
  where: Pick<ServeServerStart, "dataDir" | "databaseUrl">,
) {
  const server = await startServer(context, where);
  try {
    const cases: Case[] = [];
    for (const appsPerRequest of [1, 20]) {
      const requests = appsPerRequest === 1 ? 3000 : 300;
      await load(server, Math.min(requests, 500), appsPerRequest);
      const rounds: Round[] = [];
      for (let round = 0; round < Math.min(context.rounds, 5); round++) {
        const measured = await load(server, requests, appsPerRequest);
        const { perSecond } = await reply<{ perSecond: number }>(server.child, {
          kind: "limit",
          tokens: requests * appsPerRequest,
          concurrency,
        });
        const floor = await load(server, requests, appsPerRequest, "/floor");
        rounds.push({ ...measured, limit: perSecond, floor: floor.served });
      }
      cases.push({ store, appsPerRequest, rounds, peakRssMB: await peakRssMB(server.child) });
    }
    return cases;
  } finally {
    server.child.disconnect();
  }
}

/** The embedded store's RSS every 10,000 one-app requests, over 100,000. */
async function rssOver100k(context: BenchContext): Promise<number[]> {
  const server = await startServer(context, { dataDir: join(context.workDir, "serve-rss") });
  try {
    const samples: number[] = [];
    for (let block = 0; block < 10; block++) {
      await load(server, 10_000, 1);
      samples.push(
        Math.round((await reply<{ rss: number }>(server.child, { kind: "rss" })).rss / 2 ** 20),
      );
    }
    return samples;
  } finally {
    server.child.disconnect();
  }
}

/**
 * The distribution server: restore with 1 and with 20 apps a request, 32 at a time, on the
 * embedded store and on PostgreSQL, each round beside the limit (one signer signing the same
 * number of tokens in the server's process right after); then the RSS over 100,000 requests.
 */
export const serve: Section<ServeFigures> = {
  name: "serve",
  async measure(context) {
    const cases = await measureCases(context, "embedded", {
      dataDir: join(context.workDir, "serve-embedded"),
    });
    let postgres: ServeFigures["postgres"] = "skipped: PostgreSQL is not installed";
    if (postgresBinaries()) {
      const server = await startTestPostgres();
      try {
        cases.push(...(await measureCases(context, "PostgreSQL", { databaseUrl: server.url })));
        postgres = "measured";
      } finally {
        await server.destroy();
      }
    }
    return { cases, rssOver100k: await rssOver100k(context), postgres };
  },
  render(figures) {
    const rows = figures.cases.map((item) => {
      const ratios = item.rounds.map((round) => round.served / round.limit);
      const served = median(item.rounds.map((round) => round.served));
      const target = item.appsPerRequest === 20 ? 0.8 : 0.5;
      const ofFloor = item.rounds.map((round) => round.served / round.floor);
      return `| ${item.store} | ${item.appsPerRequest} | ${Math.round(served)} | ${Math.round(median(item.rounds.map((round) => round.limit)))} | **${median(ratios).toFixed(2)}** (${spread(ratios)}) | ≥ ${target} | ${Math.round(median(item.rounds.map((round) => round.floor)))} | ${median(ofFloor).toFixed(2)} (${spread(ofFloor)}) | ${median(item.rounds.map((round) => round.p99Ms)).toFixed(1)} | ${item.peakRssMB} |`;
    });
    return [
      "## Serving installs (`@asc-kit/distribution`, restore at concurrency 32)",
      "",
      "Install verification tokens handed out per second through restore, against the limit: one signer signing the same number of tokens in the server's process right after each round (with no HTTP and no load generator beside it). Each request authenticates its bearer token, reads the versions (held 5 s), records the installs (one statement) before it signs; accounts cycle over 1,000. The floor is the same requests through the same server and client, answered with fixed tokens and no store: what HTTP on this machine allows at all, the load generator sharing its 2 cores.",
      "",
      "| store | apps a request | tokens/s served | tokens/s limit | ratio to the limit | target | tokens/s floor | ratio to the floor | p99 ms | peak RSS MB |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...rows,
      "",
      `PostgreSQL: ${figures.postgres}. Server RSS every 10,000 one-app requests on the embedded store, over 100,000: ${figures.rssOver100k.join(", ")} MB.`,
      "",
    ];
  },
};
