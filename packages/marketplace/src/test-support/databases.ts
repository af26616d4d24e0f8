import { join } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import { postgresBinaries, startTestPostgres } from "@asc-kit/test-postgres";
import type { TestPostgres } from "@asc-kit/test-postgres";
import { startEmbeddedDatabase } from "../embedded.js";
import type { EmbeddedDatabase } from "../embedded.js";

/** A database under test: its URL, and its server when it is PostgreSQL. */
export interface TestDatabase {
  /** What `openMarketplace` takes as `database`. */
  url(): string | EmbeddedDatabase;
  postgres?: TestPostgres | undefined;
}

/** Whether the PostgreSQL runs happen: always in CI (where it is installed), else when installed. */
export const withPostgres = postgresBinaries() !== undefined || Boolean(process.env.CI);
if (!withPostgres) {
  console.warn(
    "PostgreSQL is not installed: the PostgreSQL runs are SKIPPED (apt-get install postgresql).",
  );
}

/** A PostgreSQL server under test, and a fresh database on it. */
export interface PostgresDatabase {
  url(): string;
  postgres: TestPostgres | undefined;
  fresh(): Promise<string>;
}

/**
 * A PostgreSQL server for the suite, started before and removed after it; `fresh()` makes an
 * empty database on it for one test, and `url()` is then that database's.
 */
export function postgresDatabase(): PostgresDatabase {
  let current = "";
  let made = 0;
  const database: PostgresDatabase = {
    url: () => current,
    postgres: undefined as TestPostgres | undefined,
    async fresh() {
      const name = `marketplace_${++made}`;
      const client = new pg.Client({ connectionString: database.postgres!.url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      const url = new URL(database.postgres!.url);
      url.pathname = `/${name}`;
      return (current = url.href);
    },
  };
  beforeAll(async () => {
    database.postgres = await startTestPostgres();
    current = database.postgres.url;
  });
  afterAll(() => database.postgres?.destroy());
  return database;
}

/** Runs `suite` on the embedded database and on PostgreSQL, the same code path. */
export function forEachDatabase(suite: (database: TestDatabase) => void): void {
  describe("on the embedded database", () => {
    let folder = "";
    let embedded: EmbeddedDatabase | undefined;
    beforeAll(async () => {
      folder = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-db-"));
      embedded = await startEmbeddedDatabase(folder);
    });
    afterAll(async () => {
      await embedded?.stop();
      await rm(folder, { recursive: true, force: true });
    });
    suite({ url: () => embedded! });
  });
  (withPostgres ? describe : describe.skip)("on PostgreSQL", () => suite(postgresDatabase()));
}
