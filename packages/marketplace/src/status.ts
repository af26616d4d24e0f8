import type { SqlExecutor } from "@asc-kit/distribution";

/** The states of a version's ingest. */
export type IngestState = "queued" | "running" | "done" | "failed";

/** A version that is not done, with why. */
export interface VersionWork {
  versionId: string;
  appId: string;
  state: IngestState;
  attempts: number;
  /** The last failure's message, if any. Never a key blob, token or secret. */
  reason: string | undefined;
  /** When its state last changed (ISO 8601). */
  since: string;
}

/** A notification whose handling failed for good. */
export interface NotificationWork {
  id: string;
  type: string;
  appId: string | undefined;
  reason: string;
  receivedAt: string;
}

/** The pipeline's work, by state. */
export interface MarketplaceStatus {
  versions: Record<IngestState, number>;
  notifications: { received: number; handled: number; waiting: number; failed: number };
  /** Versions queued, running or failed, oldest first (at most 100 of each). */
  work: VersionWork[];
  /** Notifications that failed for good (at most 100). */
  failedNotifications: NotificationWork[];
}

/** Reads the pipeline's state: counts, and the versions and notifications that need an eye. */
export async function readStatus(executor: SqlExecutor): Promise<MarketplaceStatus> {
  const counts = await executor.query<{ state: IngestState; count: string }>(
    "SELECT state, count(*)::text AS count FROM asc_kit_mp_versions GROUP BY state",
  );
  const versions: Record<IngestState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const row of counts) versions[row.state] = Number(row.count);
  const [notes] = await executor.query<Record<string, string>>(
    `SELECT count(*)::text AS received, count(handled_at)::text AS handled,
       count(*) FILTER (WHERE dead_at IS NOT NULL AND handled_at IS NULL)::text AS failed,
       count(*) FILTER (WHERE handled_at IS NULL AND dead_at IS NULL)::text AS waiting
     FROM asc_kit_mp_notifications`,
  );
  const work = await executor.query<Record<string, unknown>>(
    `(SELECT * FROM asc_kit_mp_versions WHERE state = 'failed' ORDER BY updated_at LIMIT 100)
     UNION ALL (SELECT * FROM asc_kit_mp_versions WHERE state = 'running' ORDER BY updated_at LIMIT 100)
     UNION ALL (SELECT * FROM asc_kit_mp_versions WHERE state = 'queued' ORDER BY updated_at LIMIT 100)`,
  );
  const failed = await executor.query<Record<string, unknown>>(
    `SELECT id, type, app_id, last_error, received_at FROM asc_kit_mp_notifications
     WHERE dead_at IS NOT NULL AND handled_at IS NULL ORDER BY received_at LIMIT 100`,
  );
  return {
    versions,
    notifications: {
      received: Number(notes?.received ?? 0),
      handled: Number(notes?.handled ?? 0),
      waiting: Number(notes?.waiting ?? 0),
      failed: Number(notes?.failed ?? 0),
    },
    work: work.map((row) => ({
      versionId: String(row.version_id),
      appId: String(row.app_id),
      state: row.state as IngestState,
      attempts: Number(row.attempts),
      reason: (row.last_error as string | null) ?? undefined,
      since: new Date(row.updated_at as string).toISOString(),
    })),
    failedNotifications: failed.map((row) => ({
      id: String(row.id),
      type: String(row.type),
      appId: (row.app_id as string | null) ?? undefined,
      reason: (row.last_error as string | null) ?? "Handling failed on every attempt.",
      receivedAt: new Date(row.received_at as string).toISOString(),
    })),
  };
}
