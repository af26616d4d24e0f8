import pg from "pg";
import type { PoolClient } from "pg";
import type { SqlExecutor } from "@asc-kit/distribution";

/** How long any query may take, connecting included: every wait on the database ends. */
export const queryTimeoutMs = 15_000;

/** A pool of connections to one PostgreSQL database, and the executor over it. */
export interface Database {
  executor: SqlExecutor;
  /** For pg-boss: its `db` option, over the same pool. */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  close(): Promise<void>;
}

/**
 * Opens a pool on a `postgres://` URL (PostgreSQL itself, or the embedded database's socket).
 * A connection that breaks is replaced; an error on an idle one is absorbed, not thrown, so
 * that a restarted server costs the queries under way and nothing else.
 */
export function openDatabase(url: string, maxConnections: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: queryTimeoutMs,
    query_timeout: queryTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server closed (a restart) emits here; the pool drops it.
  pool.on("error", () => undefined);
  const executor = executorOf(pool);
  return {
    executor,
    executeSql: async (text, values) => pool.query(text, values),
    async close() {
      await pool.end();
    },
  };
}

function executorOf(client: pg.Pool | PoolClient): SqlExecutor {
  return {
    async query<Row extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      return (await client.query<Row>(text, params)).rows;
    },
    async transaction(work) {
      if (!(client instanceof pg.Pool)) throw new TypeError("Transactions do not nest.");
      const connection = await client.connect();
      // A connection that breaks between two statements says so here, not as a crash.
      let broken: Error | undefined;
      const onError = (error: Error) => (broken = error);
      connection.on("error", onError);
      try {
        await connection.query("BEGIN");
        const result = await work(executorOf(connection));
        await connection.query("COMMIT");
        return result;
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        connection.off("error", onError);
        // A broken connection is closed, not handed out again.
        connection.release(broken ?? false);
      }
    },
    async close() {
      if (client instanceof pg.Pool) await client.end();
    },
  };
}

/** The executor's queries as pg-boss's `db` option, for a job sent inside a transaction. */
export function jobDatabase(executor: SqlExecutor) {
  return {
    executeSql: async (text: string, values?: unknown[]) => ({
      rows: await executor.query(text, values),
    }),
  };
}
