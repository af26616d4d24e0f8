import type { DistributionStore, SqlExecutor } from "@asc-kit/distribution";
import { parseNotification } from "@asc-kit/notifications";
import type { MarketplaceNotification } from "@asc-kit/notifications";
import { jobDatabase } from "./database.js";
import { appOf, effectsOf, eventTimeOf } from "./events.js";
import type { Effect } from "./events.js";
import { markChanged } from "./schema.js";

/** The queues of the pipeline's jobs (pg-boss). */
export const queues = {
  notifications: "asc-kit-notifications",
  ingest: "asc-kit-ingest",
  deadLetter: "asc-kit-dead-letter",
} as const;

/** How a job is sent: pg-boss's `send`, inside the caller's transaction when `db` is given. */
export type SendJob = (
  queue: string,
  data: object,
  options: { id?: string; db?: ReturnType<typeof jobDatabase> },
) => Promise<string | null>;

/** How jobs are inserted in bulk: pg-boss's `insert`, inside the caller's transaction. */
export type InsertJobs = (
  jobs: Array<{ name: string; data: object }>,
  db: ReturnType<typeof jobDatabase>,
) => Promise<unknown>;

/**
 * Records verified notifications and queues their handling, in one transaction: once this
 * resolves the work is durable, and only then may the receiver answer 2xx. Resolves with the
 * ids recorded now; a duplicate (an id recorded before, or twice in the batch) is recorded once
 * and changes nothing after.
 */
export async function recordNotifications(
  executor: SqlExecutor,
  insertJobs: InsertJobs,
  notifications: readonly MarketplaceNotification[],
): Promise<Set<string>> {
  const received = new Date();
  const column = (pick: (notification: MarketplaceNotification) => string | null) =>
    notifications.map(pick);
  return executor.transaction(async (tx) => {
    const rows = await tx.query<{ id: string }>(
      // One that asks nothing of the workers (a ping, an unknown type) is handled as it lands.
      `INSERT INTO asc_kit_mp_notifications (id, type, app_id, event_at, body, handled_at)
       SELECT id, type, app_id, event_at, body, CASE WHEN idle THEN now() END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::boolean[])
         AS n (id, type, app_id, event_at, body, idle)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        column((notification) => notification.id),
        column((notification) =>
          notification.type === "unknown" ? notification.sentType : notification.type,
        ),
        column((notification) => appOf(notification) ?? null),
        column((notification) => eventTimeOf(notification, received).toISOString()),
        column((notification) => JSON.stringify({ data: notification.raw })),
        notifications.map((notification) => effectsOf(notification).length === 0),
      ],
    );
    const recorded = new Set(rows.map((row) => row.id));
    const jobs = notifications
      .filter((notification) => recorded.has(notification.id) && effectsOf(notification).length > 0)
      .filter(
        (notification, index, all) =>
          all.findIndex((other) => other.id === notification.id) === index,
      )
      .map((notification) => ({ name: queues.notifications, data: { id: notification.id } }));
    if (jobs.length > 0) await insertJobs(jobs, jobDatabase(tx));
    return recorded;
  });
}

/**
 * Applies a recorded notification: a version is queued for ingest (once, whatever the number of
 * notifications about it), availability and territories are recorded where their event is the
 * newest, and what restore and updates answer is brought in line.
 */
export async function handleNotification(
  executor: SqlExecutor,
  store: DistributionStore,
  send: SendJob,
  id: string,
): Promise<void> {
  const [row] = await executor.query<{ body: string; event_at: Date | string }>(
    "SELECT body, event_at FROM asc_kit_mp_notifications WHERE id = $1",
    [id],
  );
  if (!row) return;
  const notification = parseNotification(row.body);
  const eventAt = new Date(row.event_at).toISOString();
  const effects = effectsOf(notification);
  await executor.transaction(async (tx) => {
    for (const effect of effects) await record(tx, send, effect, eventAt, id);
    for (const appId of new Set(effects.map((effect) => effect.appId))) {
      await markChanged(tx, appId);
    }
    await tx.query("UPDATE asc_kit_mp_notifications SET handled_at = now() WHERE id = $1", [id]);
  });
  for (const appId of new Set(effects.map((effect) => effect.appId))) {
    await applyAvailability(executor, store, appId);
  }
}

async function record(
  tx: SqlExecutor,
  send: SendJob,
  effect: Effect,
  eventAt: string,
  notificationId: string,
): Promise<void> {
  switch (effect.kind) {
    case "version": {
      const created = await tx.query(
        `INSERT INTO asc_kit_mp_versions (version_id, app_id, package_id, state)
         VALUES ($1, $2, $3, 'queued')
         ON CONFLICT (version_id) DO UPDATE SET
           package_id = COALESCE(asc_kit_mp_versions.package_id, excluded.package_id)
         RETURNING (xmax = 0) AS inserted`,
        [effect.versionId, effect.appId, effect.packageId ?? null],
      );
      if (created[0]?.inserted) {
        await send(
          queues.ingest,
          { versionId: effect.versionId, appId: effect.appId },
          { id: await jobId(`ingest:${effect.versionId}`), db: jobDatabase(tx) },
        );
      }
      return;
    }
    case "availability":
      await newestWins(tx, "asc_kit_mp_availability", "scope", [
        effect.appId,
        effect.scope,
        effect.available,
        eventAt,
        notificationId,
      ]);
      return;
    case "territories":
      for (const territory of effect.territories) {
        await newestWins(tx, "asc_kit_mp_territories", "territory", [
          effect.appId,
          territory,
          effect.available,
          eventAt,
          notificationId,
        ]);
      }
  }
}

/**
 * Records an app's availability (by `scope`) or a territory's where its event is the newest,
 * whatever order the notifications came in; of two events at one time, the larger id wins.
 */
async function newestWins(
  tx: SqlExecutor,
  table: "asc_kit_mp_availability" | "asc_kit_mp_territories",
  key: "scope" | "territory",
  values: [string, string, boolean, string, string],
): Promise<void> {
  await tx.query(
    `INSERT INTO ${table} (app_id, ${key}, available, event_at, notification_id)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (app_id, ${key}) DO UPDATE SET available = excluded.available,
       event_at = excluded.event_at, notification_id = excluded.notification_id
     WHERE (${table}.event_at, ${table}.notification_id)
       < (excluded.event_at, excluded.notification_id)`,
    values,
  );
}

/** What an app's availability comes to: the app's own word, and each served version's. */
interface AppState extends Record<string, unknown> {
  changes: string;
  app_available: boolean;
  versions: unknown;
}

/**
 * Brings the distribution store in line with the recorded availability of one app: its
 * versions that are served, each available unless its package was withdrawn, and the app
 * unless it was. Any number of workers may run this at once for one app: each applies what it
 * read, then reads the app's change counter again and goes round once more when another change
 * landed meanwhile, so the last to finish has applied the newest state.
 */
export async function applyAvailability(
  executor: SqlExecutor,
  store: DistributionStore,
  appId: string,
): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const [state] = await executor.query<AppState>(
      `SELECT a.changes::text AS changes,
         COALESCE((SELECT available FROM asc_kit_mp_availability
                   WHERE app_id = $1 AND scope = ''), true) AS app_available,
         COALESCE(json_agg(json_build_object(
           'appleVersionId', v.apple_version_id,
           'available', COALESCE(p.available, true)
         )) FILTER (WHERE v.version_id IS NOT NULL), '[]'::json) AS versions
       FROM asc_kit_mp_apps a
       LEFT JOIN asc_kit_mp_versions v ON v.app_id = a.app_id AND v.state = 'done'
       LEFT JOIN asc_kit_mp_availability p ON p.app_id = v.app_id AND p.scope = v.package_id
       WHERE a.app_id = $1 GROUP BY a.changes`,
      [appId],
    );
    if (!state) return;
    const versions = (
      typeof state.versions === "string" ? JSON.parse(state.versions) : state.versions
    ) as Array<{ appleVersionId: string; available: boolean }>;
    await store.setAvailability(state.app_available, appId);
    for (const version of versions) {
      await store.setAvailability(version.available, appId, version.appleVersionId);
    }
    const [after] = await executor.query<{ changes: string }>(
      "SELECT changes::text AS changes FROM asc_kit_mp_apps WHERE app_id = $1",
      [appId],
    );
    if (after?.changes === state.changes) return;
  }
  throw new Error(`The availability of app ${appId} kept changing: it is applied again on retry.`);
}

/**
 * A job id from a name (a UUID in the form pg-boss takes, from its SHA-256): sending the same
 * name twice makes one job.
 */
export async function jobId(name: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name)),
  ).slice(0, 16);
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
