import PgBoss from "pg-boss";
import type { AppStoreConnectClient } from "@asc-kit/core";
import { sqlStore } from "@asc-kit/distribution";
import type { DistributionStore, SqlExecutor } from "@asc-kit/distribution";
import { createNotificationHandler } from "@asc-kit/notifications";
import type { MarketplaceNotification, NotificationHandlerOptions } from "@asc-kit/notifications";
import { handleNotification, queues, recordNotifications } from "./apply.js";
import type { SendJob } from "./apply.js";
import { openDatabase } from "./database.js";
import { PermanentFailure, ingestVersion, messageOf } from "./ingest.js";
import type { IngestContext } from "./ingest.js";
import type { EmbeddedDatabase } from "./embedded.js";
import { createTables } from "./schema.js";
import { readStatus } from "./status.js";
import type { MarketplaceStatus } from "./status.js";
import type { PackageStorage } from "./storage.js";
import { startWorkerLoop } from "./worker-loop.js";
import type { WorkerLoop } from "./worker-loop.js";

/** How the pipeline's jobs are retried and given up on. */
export interface JobOptions {
  /** Attempts after the first before a version is dead-lettered. Default 6. */
  retryLimit?: number;
  /** The first wait before a retry, in seconds, doubling each time. Default 10. */
  retryDelaySeconds?: number;
  /**
   * How long a job may run before it counts as stopped (a worker killed, a database that went
   * away under it) and another worker takes it, in seconds. Default 1,800 for an ingest (longer
   * than the slowest download the download's deadlines allow on a package of a few GB) and 300
   * for a notification.
   */
  expireInSeconds?: number;
  /** How often an idle worker asks for work, in seconds. Default 1. */
  pollingIntervalSeconds?: number;
  /** How often jobs of stopped workers are looked for, in seconds. Default 60. */
  maintenanceIntervalSeconds?: number;
}

/** What the pipeline tells as it goes, for logs and progress. Never a secret. */
export type PipelineEvent =
  | { kind: "received"; id: string; type: string; duplicate: boolean }
  | { kind: "ingest-started"; versionId: string; appId: string; attempt: number }
  | {
      kind: "ingest-done";
      versionId: string;
      appId: string;
      /** True when another worker had done it: nothing was downloaded. */
      skipped: boolean;
      downloadedBytes: number;
      /** Bytes verified by an attempt that stopped, kept rather than fetched again. */
      resumedBytes: number;
    }
  | { kind: "ingest-failed"; versionId: string; appId: string; reason: string; final: boolean }
  | { kind: "notification-failed"; id: string; reason: string }
  | { kind: "error"; message: string };

export interface MarketplaceOptions {
  /** PostgreSQL's `postgres://` URL, or the embedded database (`startEmbeddedDatabase`). */
  database: string | EmbeddedDatabase;
  /**
   * An App Store Connect client with the marketplace's API key: what downloads the packages.
   * Needed by `work()`; a process that only receives, or reads the status, may go without.
   */
  client?: AppStoreConnectClient;
  /** Where layouts go to be served: `folderStorage(root, url)` or an object store. */
  storage: PackageStorage;
  /** Passed to each download (a fetch for the links, deadlines, concurrency). */
  download?: IngestContext["download"];
  jobs?: JobOptions;
  /** Connections to PostgreSQL this process keeps at most. Default 10 (1 on the embedded one). */
  maxConnections?: number;
  onEvent?(event: PipelineEvent): void;
}

/** A marketplace's pipeline in this process, on a database shared with any number of others. */
export interface Marketplace {
  /** The distribution store, on the same database: for the distribution handler. */
  store: DistributionStore;
  /**
   * The notification receiver: verifies the signature, records the notification and queues its
   * work, then answers 200; a duplicate is 200 with nothing recorded; 500 when the database is
   * unreachable, so that App Store Connect delivers it again.
   */
  receiver(
    options: Omit<NotificationHandlerOptions, "onNotification" | "store">,
  ): (request: Request) => Promise<Response>;
  /** Starts `count` workers in this process (default 1): each takes one job at a time. */
  work(count?: number): Promise<void>;
  status(): Promise<MarketplaceStatus>;
  /**
   * Queues dead-lettered work again: these versions (or every failed one) and every failed
   * notification. Resolves with the version ids and notification ids queued.
   */
  retry(versionIds?: readonly string[]): Promise<string[]>;
  /** The territories (alpha-3) an app may be distributed in, as notified: for entitlement. */
  territoriesOf(appId: string): Promise<string[]>;
  /** Lets the jobs under way finish, then closes the connections. */
  close(): Promise<void>;
}

/**
 * Opens the pipeline on a database: creates its tables and pg-boss's when missing, and opens
 * the distribution store there too. Receivers and workers may run in any number of processes
 * on any number of machines sharing the database.
 *
 * @example
 * ```ts
 * import { createAppStoreConnectClient } from "@asc-kit/core";
 * import { folderStorage, openMarketplace } from "@asc-kit/marketplace";
 *
 * const marketplace = await openMarketplace({
 *   database: process.env.DATABASE_URL!,
 *   client: createAppStoreConnectClient({
 *     keyId: process.env.ASC_KEY_ID!,
 *     issuerId: process.env.ASC_ISSUER_ID,
 *     privateKey: process.env.ASC_PRIVATE_KEY!,
 *   }),
 *   storage: folderStorage("./packages", "https://apps.example.com/packages/"),
 * });
 * const receive = marketplace.receiver({ secret: process.env.WEBHOOK_SECRET! });
 * await marketplace.work(2);
 * ```
 */
export async function openMarketplace(options: MarketplaceOptions): Promise<Marketplace> {
  checkOptions(options);
  const database =
    typeof options.database === "string"
      ? openDatabase(options.database, options.maxConnections ?? 10)
      : openDatabase(options.database.url, options.database.connections);
  const { executor } = database;
  const emit = (event: PipelineEvent) => options.onEvent?.(event);
  try {
    await createTables(executor);
    const store = await sqlStore(executor);
    const boss = await startJobs(database.executeSql, options.jobs ?? {}, emit);
    const loops: Record<"notifications" | "ingest" | "deadLetter", WorkerLoop[]> = {
      notifications: [],
      ingest: [],
      deadLetter: [],
    };
    const send: SendJob = async (queue, data, sendOptions) => {
      const id = await boss.send(queue, data, sendOptions as PgBoss.SendOptions);
      // Workers in this process start at once; those elsewhere on their next poll.
      for (const loop of loops[queue === queues.ingest ? "ingest" : "notifications"]) loop.wake();
      return id;
    };
    const context: IngestContext | undefined = options.client && {
      executor,
      store,
      client: options.client,
      storage: options.storage,
      ...(options.download ? { download: options.download } : {}),
    };
    const record = groupCommit(async (batch) => {
      const recorded = await recordNotifications(
        executor,
        (jobs, db) => boss.insert(jobs, { db }),
        batch,
      );
      for (const loop of loops.notifications) loop.wake();
      return recorded;
    });
    return {
      store,
      receiver: (receiverOptions) =>
        createNotificationHandler({
          ...receiverOptions,
          onNotification: async (notification) => {
            const recorded = await record(notification);
            emit({
              kind: "received",
              id: notification.id,
              type: notification.type === "unknown" ? notification.sentType : notification.type,
              duplicate: !recorded,
            });
          },
        }),
      async work(count = 1) {
        if (!Number.isInteger(count) || count < 1 || count > 64) {
          throw new TypeError("work(count) takes a whole number of workers from 1 to 64.");
        }
        if (!context) {
          throw new TypeError(
            "work() needs openMarketplace's client: the workers download with it.",
          );
        }
        const ingesting = context;
        const pollingMs = (options.jobs?.pollingIntervalSeconds ?? 1) * 1000;
        const report = (error: unknown) => emit({ kind: "error", message: messageOf(error) });
        for (let index = 0; index < count; index++) {
          loops.notifications.push(
            startWorkerLoop<{ id: string }>(
              boss,
              queues.notifications,
              pollingMs,
              (job) => notificationJob(executor, store, send, job, emit),
              report,
            ),
          );
          loops.ingest.push(
            startWorkerLoop<{ versionId: string; appId: string }>(
              boss,
              queues.ingest,
              pollingMs,
              (job) => ingestJob(ingesting, job, emit),
              report,
            ),
          );
        }
        if (loops.deadLetter.length === 0) {
          loops.deadLetter.push(
            startWorkerLoop<Record<string, string>>(
              boss,
              queues.deadLetter,
              pollingMs,
              (job) => deadLettered(executor, job, emit),
              report,
            ),
          );
        }
      },
      status: () => readStatus(executor),
      retry: (versionIds) => retryFailed(executor, send, versionIds),
      async territoriesOf(appId) {
        const rows = await executor.query<{ territory: string }>(
          `SELECT territory FROM asc_kit_mp_territories WHERE app_id = $1 AND available
           ORDER BY territory`,
          [appId],
        );
        return rows.map((row) => row.territory);
      },
      async close() {
        const all = [...loops.notifications, ...loops.ingest, ...loops.deadLetter];
        await Promise.all(all.map((loop) => loop.stop()));
        await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

function checkOptions(options: MarketplaceOptions): void {
  const url = typeof options?.database === "string" ? options.database : options?.database?.url;
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError(
      "openMarketplace needs database: a postgres:// URL, or startEmbeddedDatabase(dir) for no server to install.",
    );
  }
  if (!options.storage)
    throw new TypeError("openMarketplace needs storage: folderStorage(root, url).");
}

/**
 * Records notifications in groups: one arriving while a group is being committed waits for it
 * and goes with the next, so that under load one transaction (and one flush to disk) records
 * many. Each caller resolves once its own notification is durable, with whether it was new.
 */
function groupCommit(
  record: (batch: MarketplaceNotification[]) => Promise<Set<string>>,
): (notification: MarketplaceNotification) => Promise<boolean> {
  type Waiting = {
    notification: MarketplaceNotification;
    resolve(recorded: boolean): void;
    reject(error: unknown): void;
  };
  const waiting: Waiting[] = [];
  let committing: Promise<void> | undefined;
  const commit = async () => {
    while (waiting.length > 0) {
      const batch = waiting.splice(0, maxGroup);
      try {
        const recorded = await record(batch.map((item) => item.notification));
        for (const item of batch) {
          // Of the same id twice in one group, the first is the one recorded.
          item.resolve(recorded.delete(item.notification.id));
        }
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    committing = undefined;
  };
  return (notification) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ notification, resolve, reject });
      committing ??= commit();
    });
}

/** Notifications recorded in one transaction at most. */
const maxGroup = 256;

/** pg-boss on the pool, with the pipeline's three queues. */
async function startJobs(
  executeSql: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>,
  jobs: JobOptions,
  emit: (event: PipelineEvent) => void,
): Promise<PgBoss> {
  const boss = new PgBoss({
    db: { executeSql },
    schema: "asc_kit_jobs",
    maintenanceIntervalSeconds: jobs.maintenanceIntervalSeconds ?? 60,
  } as PgBoss.ConstructorOptions);
  boss.on("error", (error) => emit({ kind: "error", message: messageOf(error) }));
  await boss.start();
  const retry = {
    retryLimit: jobs.retryLimit ?? 6,
    retryDelay: jobs.retryDelaySeconds ?? 10,
    retryBackoff: true,
    deadLetter: queues.deadLetter,
  };
  const settings: Array<[string, PgBoss.Queue]> = [
    [queues.deadLetter, { name: queues.deadLetter }],
    [
      queues.notifications,
      { name: queues.notifications, ...retry, expireInSeconds: jobs.expireInSeconds ?? 300 },
    ],
    [
      queues.ingest,
      { name: queues.ingest, ...retry, expireInSeconds: jobs.expireInSeconds ?? 1_800 },
    ],
  ];
  for (const [name, queue] of settings) {
    if (await boss.getQueue(name)) await boss.updateQueue(name, queue);
    else await boss.createQueue(name, queue);
  }
  return boss;
}

async function notificationJob(
  executor: SqlExecutor,
  store: DistributionStore,
  send: SendJob,
  job: PgBoss.JobWithMetadata<{ id: string }>,
  emit: (event: PipelineEvent) => void,
): Promise<void> {
  try {
    await handleNotification(executor, store, send, job.data.id);
  } catch (error) {
    const reason = messageOf(error);
    await executor
      .query("UPDATE asc_kit_mp_notifications SET last_error = $2 WHERE id = $1", [
        job.data.id,
        reason,
      ])
      .catch(() => undefined);
    emit({ kind: "notification-failed", id: job.data.id, reason });
    throw error;
  }
}

async function ingestJob(
  context: IngestContext,
  job: PgBoss.JobWithMetadata<{ versionId: string; appId: string }>,
  emit: (event: PipelineEvent) => void,
): Promise<void> {
  const { versionId, appId } = job.data;
  emit({ kind: "ingest-started", versionId, appId, attempt: job.retryCount + 1 });
  try {
    const outcome = await ingestVersion(context, versionId, appId);
    emit({ kind: "ingest-done", versionId, appId, ...outcome });
  } catch (error) {
    const reason = messageOf(error);
    const final = error instanceof PermanentFailure;
    await context.executor
      .query(
        `UPDATE asc_kit_mp_versions SET state = $2, last_error = $3, updated_at = now()
         WHERE version_id = $1 AND state <> 'done'`,
        [versionId, final ? "failed" : "queued", reason],
      )
      .catch(() => undefined);
    emit({ kind: "ingest-failed", versionId, appId, reason, final });
    // A permanent failure is dead at once: no retry would mend it.
    if (!final) throw error;
  }
}

/** Work whose retries ran out, or whose worker stopped on its last attempt: failed, with why. */
async function deadLettered(
  executor: SqlExecutor,
  { data }: PgBoss.Job<Record<string, string>>,
  emit: (event: PipelineEvent) => void,
): Promise<void> {
  if (data.versionId !== undefined) {
    const [row] = await executor.query<{ last_error: string }>(
      `UPDATE asc_kit_mp_versions SET state = 'failed', updated_at = now(),
         last_error = COALESCE(last_error, 'The worker stopped on its last attempt (the job expired).')
       WHERE version_id = $1 AND state <> 'done' RETURNING last_error`,
      [data.versionId],
    );
    if (row) {
      const { versionId, appId = "" } = data;
      emit({ kind: "ingest-failed", versionId, appId, reason: row.last_error, final: true });
    }
  } else if (data.id !== undefined) {
    await executor.query(
      "UPDATE asc_kit_mp_notifications SET dead_at = now() WHERE id = $1 AND handled_at IS NULL",
      [data.id],
    );
    emit({ kind: "notification-failed", id: data.id, reason: "Handling failed on every attempt." });
  }
}

async function retryFailed(
  executor: SqlExecutor,
  send: SendJob,
  versionIds: readonly string[] | undefined,
): Promise<string[]> {
  const versions = await executor.query<{ version_id: string; app_id: string }>(
    `UPDATE asc_kit_mp_versions SET state = 'queued', attempts = 0, updated_at = now()
     WHERE state = 'failed' AND ($1::text[] IS NULL OR version_id = ANY($1::text[]))
     RETURNING version_id, app_id`,
    [versionIds ? [...versionIds] : null],
  );
  for (const row of versions) {
    await send(queues.ingest, { versionId: row.version_id, appId: row.app_id }, {});
  }
  const notifications =
    versionIds === undefined
      ? await executor.query<{ id: string }>(
          `UPDATE asc_kit_mp_notifications SET dead_at = NULL, last_error = NULL
           WHERE dead_at IS NOT NULL AND handled_at IS NULL RETURNING id`,
        )
      : [];
  for (const row of notifications) await send(queues.notifications, { id: row.id }, {});
  return [...versions.map((row) => row.version_id), ...notifications.map((row) => row.id)];
}
