/** The embedded database, serving PostgreSQL's protocol on loopback. */
export interface EmbeddedDatabase {
  /** A `postgres://` URL for it: give it where a PostgreSQL URL goes. */
  url: string;
  stop(): Promise<void>;
}

/** Connections the embedded database takes at once: the pool's, pg-boss's, and a few more. */
export const embeddedConnections = 32;

/**
 * Starts PostgreSQL compiled to WebAssembly (PGlite) in this process on the folder `dataDir`,
 * behind its socket server on a free loopback port: every part of the pipeline then reaches
 * it as it reaches PostgreSQL, with the same client, SQL and job engine. One process at a time
 * may open a folder. For trials, tests and small marketplaces; PostgreSQL for many machines.
 *
 * @example
 * ```ts
 * import { startEmbeddedDatabase } from "@asc-kit/marketplace";
 *
 * const database = await startEmbeddedDatabase("./marketplace-data");
 * console.log(database.url); // postgres://postgres@127.0.0.1:…/postgres
 * await database.stop();
 * ```
 */
export async function startEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  if (typeof dataDir !== "string" || dataDir === "") {
    throw new TypeError("startEmbeddedDatabase needs the folder to keep its data in.");
  }
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
  ]).catch(() => {
    throw new TypeError(
      "The embedded database needs @electric-sql/pglite and @electric-sql/pglite-socket: install them, or give a PostgreSQL URL.",
    );
  });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: 0,
    maxConnections: embeddedConnections,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
