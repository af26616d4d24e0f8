import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { openEmbeddedStore } from "../pglite.js";
import { openPostgresStore } from "../postgres.js";
import type { DistributionStore } from "../store.js";
import { postgresBinaries, startTestPostgres } from "@asc-kit/test-postgres";
import type { TestPostgres } from "@asc-kit/test-postgres";

/** One adapter under test: its store, a reopen on the same data, and its server, if any. */
export interface Adapter {
  store(): DistributionStore;
  reopen(): Promise<void>;
  postgres?: TestPostgres;
}

/**
 * Runs `suite` once per adapter: the embedded store in a fresh folder, and PostgreSQL on a
 * server the tests start. Without PostgreSQL installed, its run is skipped with a warning
 * outside CI and fails in CI, where `.ci/run` installs it.
 */
export function forEachAdapter(suite: (adapter: Adapter) => void): void {
  describe("on the embedded store (PGlite)", () => {
    let folder = "";
    let current: DistributionStore | undefined;
    beforeAll(async () => {
      folder = await mkdtemp(join(tmpdir(), "asc-kit-distribution-"));
      current = await openEmbeddedStore(folder);
    });
    afterAll(() => current?.close());
    suite({
      store: () => current!,
      async reopen() {
        await current!.close();
        current = await openEmbeddedStore(folder);
      },
    });
  });

  const installed = postgresBinaries() !== undefined;
  if (!installed && !process.env.CI) {
    console.warn(
      "PostgreSQL is not installed: the PostgreSQL runs are SKIPPED (apt-get install postgresql).",
    );
  }
  (installed || process.env.CI ? describe : describe.skip)("on PostgreSQL", () => {
    const adapter: Adapter = {
      store: () => current!,
      async reopen() {
        await current!.close();
        current = await openPostgresStore(adapter.postgres!.url);
      },
    };
    let current: DistributionStore | undefined;
    beforeAll(async () => {
      adapter.postgres = await startTestPostgres();
      current = await openPostgresStore(adapter.postgres.url);
    });
    afterAll(async () => {
      await current?.close();
      await adapter.postgres?.destroy();
    });
    suite(adapter);
  });
}
