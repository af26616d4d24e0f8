import type { SqlExecutor } from "@asc-kit/distribution";

/** Any number of processes may start at once on one database: the tables are made under a lock. */
const schemaLock = 4_157_210_632;

const statements = [
  // Every notification received, once: its id is the key that makes a duplicate a no-op.
  `CREATE TABLE IF NOT EXISTS asc_kit_mp_notifications (
    id text PRIMARY KEY,
    type text NOT NULL,
    app_id text,
    event_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    body text NOT NULL,
    handled_at timestamptz,
    last_error text,
    dead_at timestamptz
  )`,
  // Every package version heard of, and how far its ingest got.
  `CREATE TABLE IF NOT EXISTS asc_kit_mp_versions (
    version_id text PRIMARY KEY,
    app_id text NOT NULL,
    package_id text,
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    manifest text,
    key_blobs jsonb,
    apple_version_id text,
    path text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS asc_kit_mp_versions_app ON asc_kit_mp_versions (app_id)`,
  `CREATE INDEX IF NOT EXISTS asc_kit_mp_versions_state ON asc_kit_mp_versions (state)`,
  // The latest word on an app ('' scope) or one of its packages: the newest event wins.
  `CREATE TABLE IF NOT EXISTS asc_kit_mp_availability (
    app_id text NOT NULL,
    scope text NOT NULL,
    available boolean NOT NULL,
    event_at timestamptz NOT NULL,
    notification_id text NOT NULL,
    PRIMARY KEY (app_id, scope)
  )`,
  `CREATE TABLE IF NOT EXISTS asc_kit_mp_territories (
    app_id text NOT NULL,
    territory text NOT NULL,
    available boolean NOT NULL,
    event_at timestamptz NOT NULL,
    notification_id text NOT NULL,
    PRIMARY KEY (app_id, territory)
  )`,
  // A counter per app, raised by every change: how a worker knows what it applied is current.
  `CREATE TABLE IF NOT EXISTS asc_kit_mp_apps (
    app_id text PRIMARY KEY,
    changes bigint NOT NULL DEFAULT 0
  )`,
];

/** Creates the pipeline's tables when they are missing. */
export async function createTables(executor: SqlExecutor): Promise<void> {
  await executor.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [schemaLock]);
    for (const statement of statements) await tx.query(statement);
  });
}

/** Raises an app's change counter, inside the transaction that changed it. */
export async function markChanged(tx: SqlExecutor, appId: string): Promise<void> {
  await tx.query(
    `INSERT INTO asc_kit_mp_apps (app_id, changes) VALUES ($1, 1)
     ON CONFLICT (app_id) DO UPDATE SET changes = asc_kit_mp_apps.changes + 1`,
    [appId],
  );
}
