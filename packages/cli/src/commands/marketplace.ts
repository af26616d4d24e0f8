import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { folderStorage, openMarketplace, startEmbeddedDatabase } from "@asc-kit/marketplace";
import type {
  EmbeddedDatabase,
  Marketplace,
  MarketplaceStatus,
  PipelineEvent,
} from "@asc-kit/marketplace";
import { redeliverFailedDeliveries } from "@asc-kit/core";
import { nodeListener } from "@asc-kit/notifications/node";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { makeFolder } from "../files.js";
import { localError, usageError } from "../report.js";
import { takeLock } from "./serve-data.js";
import { secretFromEnv, untilStopped } from "./shared.js";

interface DatabaseOptions {
  databaseUrl?: string;
  data?: string;
}

interface RunOptions extends DatabaseOptions {
  packages: string;
  packagesUrl: string;
  workers: string;
  secretEnv?: string;
  port: string;
  host: string;
  redeliverFailed?: string;
}

const databaseHelp = {
  url: "keep the pipeline's state in PostgreSQL (what many machines share)",
  data: "the embedded database's folder (default: <packages>.marketplace-data, beside the packages)",
};

/** `asc-kit marketplace`: a marketplace's pipeline from notification to served version. */
export function registerMarketplace(program: Command, context: Context): void {
  const marketplace = program
    .command("marketplace")
    .description(
      "run a marketplace's pipeline: notifications recorded, versions downloaded once and served, availability applied",
    );

  marketplace
    .command("run")
    .description(
      "run the notification receiver and the workers (any number of processes may share a database)",
    )
    .requiredOption("--packages <dir>", "where verified layouts go, as `asc-kit serve` serves them")
    .requiredOption(
      "--packages-url <url>",
      "the URL the packages folder is served at (what devices fetch)",
    )
    .option("--database-url <url>", databaseHelp.url)
    .option("--data <dir>", databaseHelp.data)
    .option("--workers <n>", "workers in this process (0: receiver only)", "1")
    .option(
      "--secret-env <name>",
      "the environment variable holding the webhook's secret: runs the receiver (none: workers only)",
    )
    .option("--port <n>", "the receiver's port (0: any free port)", "0")
    .option("--host <addr>", "the receiver's address", "127.0.0.1")
    .option(
      "--redeliver-failed <webhookId>",
      "once the receiver listens, have App Store Connect send again what never reached it",
    )
    .action(async (options: RunOptions) => {
      const running = await run(options, context);
      context.io.stdout(`${JSON.stringify(running.summary)}\n`);
      await untilStopped(() => running.stop());
    });

  marketplace
    .command("status")
    .description("show the work by state: versions queued, running, done and failed (with why)")
    .option("--database-url <url>", databaseHelp.url)
    .option("--data <dir>", "the embedded database's folder, as `marketplace run --data` used")
    .action(async (options: DatabaseOptions) => {
      await withPipeline(options, async (pipeline) => {
        const status = await pipeline.status();
        await context.out(statusTable(status), status);
      });
    });

  marketplace
    .command("retry")
    .description(
      "queue dead-lettered work again: these versions, or every failed version and notification",
    )
    .argument("[versionIds...]", "the versions to retry (default: everything failed)")
    .option("--database-url <url>", databaseHelp.url)
    .option("--data <dir>", "the embedded database's folder, as `marketplace run --data` used")
    .action(async (versionIds: string[], options: DatabaseOptions) => {
      await withPipeline(options, async (pipeline) => {
        const queued = await pipeline.retry(versionIds.length > 0 ? versionIds : undefined);
        await context.out(
          queued.length === 0
            ? "Nothing failed: nothing queued.\n"
            : `Queued again: ${queued.join(", ")}\n`,
          { queued },
        );
      });
    });
}

async function run(options: RunOptions, context: Context) {
  const workers = Number(options.workers);
  if (!/^\d{1,2}$/.test(options.workers) || workers > 64) {
    throw usageError("--workers must be a whole number from 0 to 64.");
  }
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port > 65535) {
    throw usageError("--port must be a port number from 0 to 65535.");
  }
  const secret =
    options.secretEnv === undefined ? undefined : secretFromEnv(context.io, options.secretEnv);
  if (secret === undefined && workers === 0) {
    throw usageError("Nothing to run: give --secret-env for the receiver, or --workers 1 or more.");
  }
  const storage = checkedStorage(options.packages, options.packagesUrl);
  const client = await context.client();
  const database = await openDatabase(options, options.packages, true);
  let pipeline: Marketplace;
  try {
    pipeline = await openMarketplace({
      database: database.target,
      client,
      storage,
      onEvent: progress(context),
    });
  } catch (error) {
    await database.close();
    throw databaseError(error, options.databaseUrl);
  }
  if (workers > 0) await pipeline.work(workers);
  const server =
    secret === undefined ? undefined : createServer(nodeListener(pipeline.receiver({ secret })));
  if (server) {
    await new Promise<void>((done, fail) => {
      server.once("error", (error) =>
        fail(localError(`Cannot listen: ${(error as Error).message}`)),
      );
      server.listen(port, options.host, done);
    });
  }
  const address = server?.address() as AddressInfo | undefined;
  const redelivered =
    options.redeliverFailed === undefined
      ? undefined
      : await redeliver(client, options.redeliverFailed, context);
  return {
    summary: {
      receiver: address ? `http://${options.host}:${address.port}/` : null,
      workers,
      database: database.kind,
      packages: resolve(options.packages),
      packagesUrl: options.packagesUrl,
      ...(redelivered === undefined ? {} : { redelivered }),
    },
    async stop() {
      if (server) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
      await pipeline.close();
      await database.close();
    },
  };
}

/**
 * What the receiver missed while it was down (or refused while the database was): every event
 * of the webhook that never reached it, sent again. Returns how many; a refusal is a line on
 * standard error, and the run goes on.
 */
async function redeliver(
  client: Awaited<ReturnType<Context["client"]>>,
  webhookId: string,
  context: Context,
): Promise<number> {
  const { data, error } = await redeliverFailedDeliveries(client, webhookId);
  if (error) {
    context.io.stderr(
      `redelivery: cannot list the deliveries of webhook ${webhookId}: ${error.message}\n`,
    );
    return 0;
  }
  for (const failed of data.filter((entry) => entry.error)) {
    context.io.stderr(`redelivery of event ${failed.eventId} refused: ${failed.error}\n`);
  }
  return data.filter((entry) => entry.deliveryId).length;
}

function checkedStorage(packages: string, packagesUrl: string) {
  try {
    return folderStorage(packages, packagesUrl);
  } catch (error) {
    throw usageError(`--packages-url: ${(error as Error).message}`);
  }
}

/** Opens the pipeline on the database the options name, for one command, then closes it. */
async function withPipeline(
  options: DatabaseOptions,
  work: (pipeline: Marketplace) => Promise<void>,
): Promise<void> {
  if (options.databaseUrl === undefined && options.data === undefined) {
    throw usageError("Give --database-url, or --data: the folder `marketplace run --data` used.");
  }
  const database = await openDatabase(options, "", false);
  try {
    const pipeline = await openMarketplace({
      database: database.target,
      // Status and retry read and queue: no client, nothing downloaded or stored here.
      storage: folderStorage(".", "http://127.0.0.1/"),
    }).catch((error: unknown) => {
      throw databaseError(error, options.databaseUrl);
    });
    try {
      await work(pipeline);
    } finally {
      await pipeline.close();
    }
  } finally {
    await database.close();
  }
}

interface OpenedDatabase {
  target: string | EmbeddedDatabase;
  kind: "postgres" | "embedded";
  close(): Promise<void>;
}

/**
 * PostgreSQL when a URL is given; else the embedded database in `--data`: started here (the
 * folder locked to this process), or, while `marketplace run` has it, reached through the
 * address that run left in the folder.
 */
export async function openDatabase(
  options: DatabaseOptions,
  packages: string,
  owner: boolean,
): Promise<OpenedDatabase> {
  if (options.databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
      throw usageError("--database-url must be a postgres:// URL.");
    }
    return { target: options.databaseUrl, kind: "postgres", close: async () => undefined };
  }
  const data = options.data ?? `${resolve(packages)}.marketplace-data`;
  await makeFolder(data);
  const addressFile = join(data, "database-url");
  const lock = join(data, "store.lock");
  try {
    await takeLock(lock, "asc-kit marketplace run");
  } catch (error) {
    const url = await readFile(addressFile, "utf8").catch(() => undefined);
    if (owner || url === undefined) throw error;
    return {
      target: { url: url.trim(), connections: 1, stop: async () => undefined },
      kind: "embedded",
      close: async () => undefined,
    };
  }
  try {
    const embedded = await startEmbeddedDatabase(join(data, "store"));
    if (owner) await writeFile(addressFile, embedded.url, { mode: 0o600 });
    return {
      target: embedded,
      kind: "embedded",
      async close() {
        await rm(addressFile, { force: true });
        await embedded.stop();
        await rm(lock, { force: true });
      },
    };
  } catch (error) {
    await rm(lock, { force: true });
    throw error;
  }
}

function databaseError(error: unknown, url: string | undefined) {
  const message = (error as Error)?.message ?? String(error);
  // The URL may hold a password: never repeated.
  return localError(
    `Cannot open the pipeline's database: ${url ? message.replaceAll(url, "<url>") : message}`,
    "DATABASE",
  );
}

/** One line per event on standard error: what a terminal or a log shows. */
function progress(context: Context) {
  return (event: PipelineEvent) => {
    const line = (() => {
      switch (event.kind) {
        case "received":
          return `received ${event.type} ${event.id}${event.duplicate ? " (duplicate, recorded before)" : ""}`;
        case "ingest-started":
          return `downloading version ${event.versionId} of app ${event.appId} (attempt ${event.attempt})`;
        case "ingest-done":
          return event.skipped
            ? `version ${event.versionId}: done before`
            : `version ${event.versionId} of app ${event.appId}: served (${kib(event.downloadedBytes)} downloaded${event.resumedBytes ? `, ${kib(event.resumedBytes)} kept from before` : ""})`;
        case "ingest-failed":
          return `version ${event.versionId}: ${event.final ? "FAILED" : "will retry"}: ${event.reason}`;
        case "notification-failed":
          return `notification ${event.id}: ${event.reason}`;
        case "error":
          return `error: ${event.message}`;
      }
    })();
    context.io.stderr(`${line}\n`);
  };
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

function statusTable(status: MarketplaceStatus): string {
  const { versions, notifications } = status;
  const lines = [
    `versions:      ${versions.done} done, ${versions.running} running, ${versions.queued} queued, ${versions.failed} failed`,
    `notifications: ${notifications.received} received, ${notifications.handled} handled, ${notifications.waiting} waiting, ${notifications.failed} failed`,
  ];
  if (status.work.length > 0) {
    lines.push("", "STATE    VERSION                               APP          ATTEMPTS  WHY");
    for (const item of status.work) {
      lines.push(
        `${item.state.padEnd(8)} ${item.versionId.padEnd(37)} ${item.appId.padEnd(12)} ${String(item.attempts).padEnd(9)} ${item.reason ?? ""}`.trimEnd(),
      );
    }
  }
  for (const item of status.failedNotifications) {
    lines.push(`notification ${item.id} (${item.type}) failed: ${item.reason}`);
  }
  if (versions.failed > 0 || notifications.failed > 0) {
    lines.push("", "Queue the failed work again with `asc-kit marketplace retry`.");
  }
  return `${lines.join("\n")}\n`;
}
