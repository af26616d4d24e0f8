import { PGlite } from "@electric-sql/pglite";
import { withDeadline } from "./deadline.js";
import { sqlStore } from "./sql-store.js";
import type { SqlExecutor } from "./sql-store.js";
import type { DistributionStore } from "./store.js";

/**
 * The embedded store: PostgreSQL itself, compiled to WebAssembly (PGlite), in this process,
 * keeping its data in `dataDir`. No server to install, the same SQL as the PostgreSQL store;
 * one process at a time may open a folder. For trials, tests and single-instance servers.
 *
 * @example
 * ```ts
 * import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
 *
 * const store = await openEmbeddedStore("./distribution-data");
 * ```
 */
export async function openEmbeddedStore(dataDir: string): Promise<DistributionStore> {
  if (typeof dataDir !== "string" || dataDir === "") {
    throw new TypeError("openEmbeddedStore needs the folder to keep its data in.");
  }
  const database = await PGlite.create(dataDir);
  return sqlStore(executorOf(database));
}

type Queryable = Pick<PGlite, "query">;

/** PGlite answers in this process: a deadline still bounds a query stuck behind a long one. */
const queryDeadlineMs = 10_000;

function executorOf(
  database: Queryable & Partial<Pick<PGlite, "transaction" | "close">>,
): SqlExecutor {
  return {
    async query<Row extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      const result = await withDeadline(
        database.query<Row>(text, params),
        queryDeadlineMs,
        "The embedded database",
      );
      return result.rows;
    },
    async transaction(work) {
      if (!database.transaction) throw new TypeError("Transactions do not nest.");
      return database.transaction((tx) => work(executorOf(tx)));
    },
    async close() {
      await database.close?.();
    },
  };
}
