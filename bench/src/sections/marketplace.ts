import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pg from "pg";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  createWebhook,
} from "@asc-kit/core";
import { folderStorage, openMarketplace, startEmbeddedDatabase } from "@asc-kit/marketplace";
import type { EmbeddedDatabase } from "@asc-kit/marketplace";
import { createNotificationHandler, signNotification } from "@asc-kit/notifications";
import { nodeListener } from "@asc-kit/notifications/node";
import { startSandbox } from "@asc-kit/sandbox";
import { postgresBinaries, startTestPostgres } from "@asc-kit/test-postgres";
import type { TestPostgres } from "@asc-kit/test-postgres";
import { median, spread } from "../context.ts";
import type { BenchContext, Section } from "../context.ts";

interface ReceiverCase {
  database: "embedded" | "PostgreSQL";
  /** Notifications a second, recorded durably before each answer. */
  recorded: number[];
  /** The same notifications verified and answered with nothing recorded: the limit. */
  limit: number[];
}

interface IngestCase {
  database: "embedded" | "PostgreSQL";
  workers: number;
  versionsPerMinute: number;
}

interface MarketplaceFigures {
  receivers: ReceiverCase[];
  ingest: IngestCase[];
  postgres: "measured" | "skipped: PostgreSQL is not installed";
}

const secret = "the bench's webhook secret, long enough";
const concurrency = 32;
const rounds = 5;

/** Signed requests of distinct version notifications, made before any clock starts. */
async function signedRequests(count: number, round: string) {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const body = JSON.stringify({
        data: {
          type: "alternativeDistributionPackageVersionCreated",
          id: `${round}-${index}`,
          version: 1,
          attributes: {
            appId: String(6_400_000_000 + (index % 50)),
            timestamp: new Date().toISOString(),
          },
          relationships: {
            instance: {
              data: { type: "alternativeDistributionPackageVersions", id: `v-${round}-${index}` },
            },
          },
        },
      });
      return { body, signature: await signNotification(body, secret) };
    }),
  );
}

/** Notifications a second through `handler`, `concurrency` at a time. */
async function rate(
  handler: (request: Request) => Promise<Response>,
  requests: Array<{ body: string; signature: string }>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const { body, signature } = requests[next++]!;
        const answer = await handler(
          new Request("http://127.0.0.1/notifications", {
            method: "POST",
            headers: { "x-apple-signature": signature },
            body,
          }),
        );
        if (answer.status !== 200) throw new Error(`the receiver answered ${answer.status}`);
      }
    }),
  );
  return requests.length / ((performance.now() - started) / 1000);
}

async function measureReceiver(
  context: BenchContext,
  name: ReceiverCase["database"],
  database: string | EmbeddedDatabase,
  count: number,
): Promise<ReceiverCase> {
  const marketplace = await openMarketplace({
    database,
    storage: folderStorage(join(context.workDir, "unused"), "http://127.0.0.1/"),
  });
  const measured: ReceiverCase = { database: name, recorded: [], limit: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const requests = await signedRequests(count, `${name}-${round}`);
      const recording = marketplace.receiver({ secret });
      const acknowledging = createNotificationHandler({ secret, onNotification: () => undefined });
      // Alternated, so that neither always runs on the warmer process.
      const order = round % 2 === 0 ? ["limit", "recorded"] : ["recorded", "limit"];
      for (const which of order) {
        if (which === "limit") measured.limit.push(await rate(acknowledging, requests));
        else measured.recorded.push(await rate(recording, requests));
      }
      context.log(
        `marketplace receiver ${name} round ${round + 1}: ${Math.round(measured.recorded.at(-1)!)}/s recorded`,
      );
    }
  } finally {
    await marketplace.close();
  }
  return measured;
}

/** Versions a minute from notification to served, with `workers` in this process. */
async function measureIngest(
  context: BenchContext,
  name: IngestCase["database"],
  database: string | EmbeddedDatabase,
  workers: number,
): Promise<IngestCase> {
  const versions = 30;
  const apps = Array.from({ length: versions }, (_, index) => String(6_476_800_000 + index));
  const sandbox = await startSandbox({ apps: ["6476788026", ...apps], installTargets: ["iPhone"] });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
  const marketplace = await openMarketplace({
    database,
    client,
    storage: folderStorage(
      join(context.workDir, `packages-${name}-${workers}`),
      "http://127.0.0.1/p/",
    ),
  });
  const server = createServer(nodeListener(marketplace.receiver({ secret })));
  try {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await createWebhook(client, { appId: "6476788026", name: "bench", url, secret });
    await marketplace.work(workers);
    const started = performance.now();
    for (const app of apps) {
      await createAlternativeDistributionPackage(client, { appStoreVersionId: `${app}-1.0` });
    }
    while ((await marketplace.status()).versions.done < versions) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const minutes = (performance.now() - started) / 60_000;
    context.log(
      `marketplace ingest ${name}, ${workers} workers: ${Math.round(versions / minutes)} versions/min`,
    );
    return { database: name, workers, versionsPerMinute: versions / minutes };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await marketplace.close();
    await sandbox.stop();
  }
}

/** A fresh database on the server, for one case. */
async function freshDatabase(server: TestPostgres, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.href;
}

/**
 * The marketplace pipeline: how many notifications a receiver records a second (each durable,
 * with its job, before it is answered) beside the same receiver answering with nothing recorded,
 * and versions a minute from notification to served with 1 and 3 workers against the sandbox's
 * CDN (30 versions of a variant of 192 KiB, each downloaded and verified).
 */
export const marketplace: Section<MarketplaceFigures> = {
  name: "marketplace",
  async measure(context) {
    const receivers: ReceiverCase[] = [];
    const ingest: IngestCase[] = [];
    const embedded = async (folder: string) => startEmbeddedDatabase(join(context.workDir, folder));
    for (const [index, workers] of [1, 3].entries()) {
      const database = await embedded(`ingest-embedded-${index}`);
      try {
        ingest.push(await measureIngest(context, "embedded", database, workers));
      } finally {
        await database.stop();
      }
    }
    const database = await embedded("receiver-embedded");
    try {
      receivers.push(await measureReceiver(context, "embedded", database, 500));
    } finally {
      await database.stop();
    }
    if (!postgresBinaries()) {
      return { receivers, ingest, postgres: "skipped: PostgreSQL is not installed" };
    }
    const server = await startTestPostgres();
    try {
      receivers.push(
        await measureReceiver(context, "PostgreSQL", await freshDatabase(server, "receiver"), 2000),
      );
      for (const workers of [1, 3]) {
        const url = await freshDatabase(server, `ingest_${workers}`);
        ingest.push(await measureIngest(context, "PostgreSQL", url, workers));
      }
    } finally {
      await server.destroy();
    }
    return { receivers, ingest, postgres: "measured" };
  },
  render(figures) {
    const receiverRows = figures.receivers.map((item) => {
      const ratios = item.recorded.map((value, index) => value / item.limit[index]!);
      const ratioOfMedians = median(item.recorded) / median(item.limit);
      return `| ${item.database} | ${Math.round(median(item.recorded))} | ${Math.round(median(item.limit))} | **${median(ratios).toFixed(2)}** (${spread(ratios)}) | ${ratioOfMedians.toFixed(2)} | ${item.database === "PostgreSQL" ? "≥ 0.5" : "—"} |`;
    });
    const ingestRows = figures.ingest.map(
      (item) => `| ${item.database} | ${item.workers} | ${Math.round(item.versionsPerMinute)} |`,
    );
    return [
      "## A marketplace's pipeline (`@asc-kit/marketplace`)",
      "",
      `Notifications a second through the receiver at concurrency ${concurrency}, called in-process (no HTTP): recorded with their job before each answer (concurrent ones committed together, one transaction a group), beside the limit, the same receiver verifying and answering with nothing recorded. ${rounds} rounds, alternated; each notification a new one.`,
      "",
      "| database | recorded/s | limit/s | ratio (median of rounds) | ratio of medians | target |",
      "| --- | --- | --- | --- | --- | --- |",
      ...receiverRows,
      "",
      "Versions a minute from the notification to served: 30 packages created in the sandbox, each announced, downloaded (a variant of 192 KiB, every chunk verified), moved into the storage and registered, by workers in one process.",
      "",
      "| database | workers | versions/min |",
      "| --- | --- | --- |",
      ...ingestRows,
      "",
      `PostgreSQL: ${figures.postgres}.`,
      "",
    ];
  },
};
