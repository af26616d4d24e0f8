import { join } from "node:path";
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedDatabase } from "./embedded.js";
import type { EmbeddedDatabase } from "./embedded.js";
import { folderStorage } from "./storage.js";
import { openMarketplace } from "./marketplace.js";
import type { Marketplace, PipelineEvent } from "./marketplace.js";
import { startWorld, until } from "./test-support/world.js";
import type { World } from "./test-support/world.js";

const apps = ["6476788027", "6476788028"];

describe("the pipeline in one process, on the embedded database", () => {
  let world: World;
  let database: EmbeddedDatabase;
  let marketplace: Marketplace;
  const events: PipelineEvent[] = [];

  beforeAll(async () => {
    world = await startWorld(apps);
    database = await startEmbeddedDatabase(join(world.folder, "database"));
    marketplace = await openMarketplace({
      databaseUrl: database.url,
      client: world.client,
      storage: folderStorage(join(world.folder, "packages"), "http://127.0.0.1:1/packages/"),
      jobs: { pollingIntervalSeconds: 0.5, retryDelaySeconds: 1 },
      onEvent: (event) => events.push(event),
    });
    await marketplace.work(2);
    await world.listen(marketplace.receiver({ secret: world.secret }));
  });
  afterAll(async () => {
    await marketplace?.close();
    await database?.stop();
    await world?.close();
  });

  it("downloads each announced version once, serves it, and applies a withdrawal", async () => {
    const packageId = await world.createPackage(apps[0]!);
    const newer = await world.sandbox.publishPackageVersion(packageId, "1.0.1");
    await until(async () => (await marketplace.status()).versions.done === 2);
    const served = await marketplace.store.versionsOf([apps[0]!]);
    expect(served.map((version) => version.available)).toEqual([true, true]);
    expect(served[1]!.packageUrl).toBe(`http://127.0.0.1:1/packages/${apps[0]}/${newer}/`);
    expect(await readdir(join(world.folder, "packages", apps[0]!, newer))).toEqual(
      expect.arrayContaining(["manifest.json", "signature", "variant"]),
    );

    world.sandbox.setPackageAvailability(packageId, false);
    await until(async () =>
      (await marketplace.store.versionsOf([apps[0]!])).every((version) => !version.available),
    );
    world.sandbox.setTerritoryAvailability(apps[0]!, ["FRA", "DEU"], true);
    await until(async () => (await marketplace.territoriesOf(apps[0]!)).length === 2);
    expect(await marketplace.territoriesOf(apps[0]!)).toEqual(["DEU", "FRA"]);
    const status = await marketplace.status();
    expect(status.versions).toEqual({ queued: 0, running: 0, done: 2, failed: 0 });
    expect(status.notifications.waiting).toBe(0);
  });
});
