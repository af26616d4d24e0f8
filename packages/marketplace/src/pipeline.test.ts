import { join } from "node:path";
import { readdir } from "node:fs/promises";
import { signNotification } from "@asc-kit/notifications";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { folderStorage } from "./storage.js";
import { openMarketplace } from "./marketplace.js";
import type { Marketplace, PipelineEvent } from "./marketplace.js";
import { forEachDatabase } from "./test-support/databases.js";
import { startWorld, until } from "./test-support/world.js";
import type { World } from "./test-support/world.js";

const apps = ["6476788027", "6476788028"];

forEachDatabase((database) => {
  describe("the pipeline in one process", () => {
    let world: World;
    let marketplace: Marketplace;
    let receiverUrl = "";
    const events: PipelineEvent[] = [];

    beforeAll(async () => {
      world = await startWorld(apps);
      marketplace = await openMarketplace({
        database: database.url(),
        client: world.client,
        storage: folderStorage(join(world.folder, "packages"), "http://127.0.0.1:1/packages/"),
        jobs: { pollingIntervalSeconds: 0.5, retryDelaySeconds: 1, retryLimit: 1 },
        onEvent: (event) => events.push(event),
      });
      await marketplace.work(2);
      receiverUrl = await world.listen(marketplace.receiver({ secret: world.secret }), {
        webhook: true,
        marketplaceWebhook: true,
      });
    });
    afterAll(async () => {
      await marketplace?.close();
      await world?.close();
    });

    it("downloads each version once, serves it, and applies withdrawals and territories", async () => {
      const packageId = await world.createPackage(apps[0]!);
      const newer = await world.sandbox.publishPackageVersion(packageId, "1.0.1");
      await until(async () => (await marketplace.status()).versions.done === 2);
      const served = await marketplace.store.versionsOf([apps[0]!]);
      expect(served.map((version) => version.available)).toEqual([true, true]);
      expect(served[1]!.packageUrl).toBe(`http://127.0.0.1:1/packages/${apps[0]}/${newer}/`);
      expect(await readdir(join(world.folder, "packages", apps[0]!, newer))).toEqual(
        expect.arrayContaining(["manifest.json", "signature", "variant"]),
      );
      // Both formats announced both versions: each was downloaded once.
      const zips = Object.entries(world.sandbox.stats.assetRequests).filter(([path]) =>
        path.endsWith(".zip"),
      );
      expect(zips.map(([, count]) => count)).toEqual([1, 1]);

      world.sandbox.setPackageAvailability(packageId, false);
      await until(async () =>
        (await marketplace.store.versionsOf([apps[0]!])).every((version) => !version.available),
      );
      world.sandbox.setTerritoryAvailability(apps[0]!, ["FRA", "DEU"], true);
      await until(async () => (await marketplace.territoriesOf(apps[0]!)).length === 2);
      expect(await marketplace.territoriesOf(apps[0]!)).toEqual(["DEU", "FRA"]);
      world.sandbox.withdrawApp(apps[0]!);
      await until(async () => (await marketplace.status()).notifications.waiting === 0);
      expect((await marketplace.status()).versions).toMatchObject({ done: 2, failed: 0 });
    });

    it("gets through App Store Connect's and the CDN's faults", async () => {
      world.sandbox.setFaults({ serverErrorRate: 0.2, random: seeded(3) });
      world.sandbox.injectAssetFaults("truncated", "corrupt", "reset-before");
      try {
        await world.createPackage(apps[1]!);
        await until(async () => (await marketplace.status()).versions.done === 3);
      } finally {
        world.sandbox.setFaults({});
      }
      const [version] = await marketplace.store.versionsOf([apps[1]!]);
      expect(version?.available).toBe(true);
    });

    it("dead-letters a version App Store Connect does not have, with why, and retries it", async () => {
      const body = JSON.stringify({
        data: {
          type: "AlternativeDistributionPackageVersionAvailable",
          id: crypto.randomUUID(),
          version: 1,
          attributes: {
            marketplaceAppId: "6476788026",
            appId: apps[1],
            alternativeDistributionPackageId: "no-such-package",
            alternativeDistributionPackageVersionId: "no-such-version",
          },
        },
      });
      const post = async () =>
        fetch(receiverUrl, {
          method: "POST",
          headers: { "x-apple-signature": await signNotification(body, world.secret) },
          body,
        });
      expect((await post()).status).toBe(200);
      expect((await post()).status).toBe(200);
      await until(async () => (await marketplace.status()).versions.failed === 1);
      const failed = (await marketplace.status()).work.find((item) => item.state === "failed");
      expect(failed).toMatchObject({ versionId: "no-such-version", attempts: 1 });
      expect(failed?.reason).toMatch(/404|NOT_FOUND/);
      expect(await marketplace.retry()).toEqual(["no-such-version"]);
      await until(async () => {
        const work = (await marketplace.status()).work.find((item) => item.state === "failed");
        return work?.attempts === 1 && events.filter((e) => e.kind === "ingest-failed").length >= 2;
      });
      expect(JSON.stringify(await marketplace.status())).not.toContain(world.secret);
    });
  });
});

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}
