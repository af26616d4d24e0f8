import postgres from "postgres";
import type { Sql, TransactionSql } from "postgres";
import { withDeadline } from "./deadline.js";
import { sqlStore } from "./sql-store.js";
import type { SqlExecutor } from "./sql-store.js";
import type { DistributionStore } from "./store.js";

export interface PostgresStoreOptions {
  /** Connections kept at most. Default 10. */
  maxConnections?: number;
  /** The most a query may take, connecting included, in ms. Default 10,000. */
  queryTimeoutMs?: number;
}

/**
 * The store on a PostgreSQL server (through `postgres`, a well-kept client for Node.js, Bun and
 * Deno): for any number of server instances on one database. Creates its tables when missing.
 * A query the server does not answer within `queryTimeoutMs` fails, and the handler answers 503
 * with `Retry-After`.
 *
 * @example
 * ```ts
 * import { openPostgresStore } from "@asc-kit/distribution/postgres";
 *
 * const store = await openPostgresStore(process.env.DATABASE_URL!);
 * ```
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<DistributionStore> {
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError("openPostgresStore needs a postgres:// URL.");
  }
  const timeoutMs = options.queryTimeoutMs ?? 10_000;
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: Math.ceil(timeoutMs / 1000),
    idle_timeout: 60,
    onnotice: () => undefined,
  });
  try {
    return await sqlStore(executorOf(sql, timeoutMs));
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
}

function executorOf(sql: Sql | TransactionSql, timeoutMs: number): SqlExecutor {
  return {
    async query<Row extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      const rows = await withDeadline(sql.unsafe(text, params as never[]), timeoutMs, "PostgreSQL");
      return rows as unknown as Row[];
    },
    async transaction(work) {
      if (!("begin" in sql)) throw new TypeError("Transactions do not nest.");
      const begin = (sql as Sql).begin as (
        cb: (tx: TransactionSql) => Promise<unknown>,
      ) => Promise<unknown>;
      const result = await withDeadline(
        begin.call(sql, (tx) => work(executorOf(tx, timeoutMs))),
        timeoutMs,
        "PostgreSQL",
      );
      return result as Awaited<ReturnType<typeof work>>;
    },
    async close() {
      if ("end" in sql) await sql.end({ timeout: 5 });
    },
  };
}
