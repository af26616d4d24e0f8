import type { DownloadType } from "@asc-kit/install-token";
import type { DistributionStore, StoredVersion, VersionRecord } from "./store.js";

/**
 * How the SQL store reaches its database: a parameterized query (`$1`, `$2`, …) answering rows,
 * and a transaction. The PGlite and PostgreSQL adapters each give one; the SQL is the same.
 */
export interface SqlExecutor {
  query<Row extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  transaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * How long versions read are kept in memory: every restore reads them, and they change a few
 * times a day. A change this instance makes clears them at once; one another instance makes on
 * the same database is seen within this time.
 */
export const versionsCacheMs = 5_000;
/** Apps whose versions are kept at most (unknown ids included, so the map is bounded). */
const versionsCacheSize = 10_000;

/** Any number of instances may start at once on one database: the schema is made under a lock. */
const schemaLock = 4_157_210_631;

const schema = [
  `CREATE TABLE IF NOT EXISTS asc_kit_versions (
    apple_item_id text NOT NULL,
    apple_version_id text NOT NULL,
    bundle_id text NOT NULL,
    short_version_string text NOT NULL,
    bundle_version text NOT NULL,
    platforms jsonb NOT NULL,
    minimum_system_versions jsonb NOT NULL,
    package_url text NOT NULL,
    available boolean NOT NULL DEFAULT true,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (apple_item_id, apple_version_id)
  )`,
  `CREATE TABLE IF NOT EXISTS asc_kit_apps (
    apple_item_id text PRIMARY KEY,
    available boolean NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS asc_kit_grants (
    kind text NOT NULL,
    hash text NOT NULL,
    account text NOT NULL,
    data jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (kind, hash)
  )`,
  `CREATE TABLE IF NOT EXISTS asc_kit_installs (
    account text NOT NULL,
    apple_item_id text NOT NULL,
    first_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, apple_item_id)
  )`,
];

/**
 * The store over SQL, for PostgreSQL and PGlite alike: creates its tables when they are missing
 * (under an advisory lock, so that instances starting together do not race), then answers the
 * `DistributionStore` calls with one statement each. `dtype` is claimed with an insert on the
 * (account, app) key: of concurrent claims, one inserts and answers `download`.
 *
 * @example
 * ```ts
 * import { sqlStore } from "@asc-kit/distribution";
 * import type { SqlExecutor } from "@asc-kit/distribution";
 *
 * declare const executor: SqlExecutor; // over your own database client
 * const store = await sqlStore(executor);
 * ```
 */
export async function sqlStore(executor: SqlExecutor): Promise<DistributionStore> {
  await executor.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [schemaLock]);
    for (const statement of schema) await tx.query(statement);
  });
  const cache = versionsCache(executor);
  return {
    async registerVersion(record: VersionRecord, options = {}) {
      await cache.writing(record.appleItemId, () =>
        executor.query(
          `INSERT INTO asc_kit_versions (apple_item_id, apple_version_id, bundle_id,
           short_version_string, bundle_version, platforms, minimum_system_versions, package_url,
           available)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
         ON CONFLICT (apple_item_id, apple_version_id) DO UPDATE SET
           bundle_id = excluded.bundle_id,
           short_version_string = excluded.short_version_string,
           bundle_version = excluded.bundle_version,
           platforms = excluded.platforms,
           minimum_system_versions = excluded.minimum_system_versions,
           package_url = excluded.package_url`,
          [
            record.appleItemId,
            record.appleVersionId,
            record.bundleId,
            record.shortVersionString,
            record.bundleVersion,
            JSON.stringify(record.platforms),
            JSON.stringify(record.minimumSystemVersions),
            record.packageUrl,
            options.available ?? true,
          ],
        ),
      );
    },
    async setAvailability(available, appleItemId, appleVersionId) {
      const rows = await cache.writing(appleItemId, () =>
        appleVersionId === undefined
          ? executor.query(
              `INSERT INTO asc_kit_apps (apple_item_id, available) VALUES ($1, $2)
               ON CONFLICT (apple_item_id) DO UPDATE SET available = excluded.available
               RETURNING apple_item_id`,
              [appleItemId, available],
            )
          : executor.query(
              `UPDATE asc_kit_versions SET available = $3
               WHERE apple_item_id = $1 AND apple_version_id = $2 RETURNING apple_item_id`,
              [appleItemId, appleVersionId, available],
            ),
      );
      return rows.length;
    },
    versionsOf: (appleItemIds) => cache.read(appleItemIds),
    async apps() {
      const rows = await executor.query<{ apple_item_id: string }>(
        "SELECT DISTINCT apple_item_id FROM asc_kit_versions ORDER BY apple_item_id",
      );
      return rows.map((row) => row.apple_item_id);
    },
    async claimInstalls(account, appleItemIds) {
      const claimed = new Map<string, DownloadType>();
      if (appleItemIds.length === 0) return claimed;
      const inserted = await executor.query<{ apple_item_id: string }>(
        `INSERT INTO asc_kit_installs (account, apple_item_id)
         SELECT $1, id FROM unnest($2::text[]) AS id
         ON CONFLICT (account, apple_item_id) DO NOTHING RETURNING apple_item_id`,
        [account, [...new Set(appleItemIds)]],
      );
      const first = new Set(inserted.map((row) => row.apple_item_id));
      for (const id of appleItemIds) claimed.set(id, first.has(id) ? "download" : "redownload");
      return claimed;
    },
    async saveGrant(grant) {
      // Grants that expired a day ago or more go with every hundredth new one.
      if (Math.random() < 0.01) {
        await executor.query(
          `DELETE FROM asc_kit_grants WHERE expires_at < now() - interval '1 day'`,
        );
      }
      await executor.query(
        `INSERT INTO asc_kit_grants (kind, hash, account, data, expires_at)
         VALUES ($1, $2, $3, $4::jsonb, $5)`,
        [
          grant.kind,
          grant.hash,
          grant.account,
          JSON.stringify(grant.data),
          grant.expiresAt.toISOString(),
        ],
      );
    },
    async takeGrant(kind, hash) {
      const [taken] = await executor.query<{ account: string; data: unknown; live: boolean }>(
        `DELETE FROM asc_kit_grants WHERE kind = $1 AND hash = $2
         RETURNING account, data, expires_at > now() AS live`,
        [kind, hash],
      );
      if (!taken?.live) return undefined;
      const data = typeof taken.data === "string" ? JSON.parse(taken.data) : taken.data;
      return { account: taken.account, data: data as Record<string, string> };
    },
    close: () => executor.close(),
  };
}

/** Versions by app, read through to the database for the apps not held or held too long. */
function versionsCache(executor: SqlExecutor) {
  const held = new Map<string, { versions: StoredVersion[]; until: number }>();
  return {
    /** Runs a write of an app's versions, forgetting them before and after (a read in between). */
    async writing<T>(appleItemId: string, write: () => Promise<T>): Promise<T> {
      held.delete(appleItemId);
      try {
        return await write();
      } finally {
        held.delete(appleItemId);
      }
    },
    async read(appleItemIds: readonly string[]): Promise<StoredVersion[]> {
      const now = Date.now();
      const missing = [...new Set(appleItemIds)].filter(
        (id) => !((held.get(id)?.until ?? 0) > now),
      );
      if (missing.length > 0) {
        const rows = await executor.query<VersionRow>(
          `SELECT v.*, v.available AND COALESCE(a.available, true) AS servable
           FROM asc_kit_versions v LEFT JOIN asc_kit_apps a USING (apple_item_id)
           WHERE v.apple_item_id = ANY($1::text[])
           ORDER BY v.apple_item_id, v.registered_at, v.apple_version_id`,
          [missing],
        );
        const read = rows.map(versionOf);
        for (const id of missing) {
          if (held.size >= versionsCacheSize) held.delete(held.keys().next().value!);
          held.set(id, {
            versions: read.filter((version) => version.appleItemId === id),
            until: now + versionsCacheMs,
          });
        }
      }
      return [...new Set(appleItemIds)].flatMap((id) => held.get(id)?.versions ?? []);
    },
  };
}

interface VersionRow extends Record<string, unknown> {
  apple_item_id: string;
  apple_version_id: string;
  bundle_id: string;
  short_version_string: string;
  bundle_version: string;
  platforms: unknown;
  minimum_system_versions: unknown;
  package_url: string;
  servable: boolean;
  registered_at: unknown;
}

function versionOf(row: VersionRow): StoredVersion {
  // jsonb comes back parsed from both clients; text, should a driver be set up to keep it so.
  const parsed = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : value);
  return {
    appleItemId: row.apple_item_id,
    appleVersionId: row.apple_version_id,
    bundleId: row.bundle_id,
    shortVersionString: row.short_version_string,
    bundleVersion: row.bundle_version,
    platforms: parsed(row.platforms) as string[],
    minimumSystemVersions: parsed(row.minimum_system_versions) as Record<string, string>,
    packageUrl: row.package_url,
    available: row.servable,
    registeredAt: new Date(row.registered_at as string | Date).toISOString(),
  };
}
