/** The embedded database, serving PostgreSQL's protocol on loopback. */
export interface EmbeddedDatabase {
  /** A `postgres://` URL for it, for tools (`psql`) while it runs. */
  url: string;
  /**
   * How many connections may be open on it. PGlite is one PostgreSQL session: its socket
   * server runs one connection's transaction at a time, but interleaves statements of
   * connections outside transactions, so the pipeline keeps one connection to it.
   */
  connections: 1;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL compiled to WebAssembly (PGlite) in this process on the folder `dataDir`,
 * behind its socket server on a free loopback port: the pipeline then reaches it as it reaches
 * PostgreSQL, with the same client, SQL and job engine (give it to `openMarketplace` as
 * `database`). One process at a time may open a folder. For trials, tests and small
 * marketplaces; PostgreSQL for many machines.
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
    // The pipeline's one, and one for a tool such as psql.
    maxConnections: 2,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    connections: 1,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
