import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { listAppWebhooks, listWebhookDeliveries } from "@asc-kit/core";
import { createDistributionHandler, marketplaceKitConfiguration } from "@asc-kit/distribution";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import { generateKeyPair } from "@asc-kit/pem";
import { afterEach, describe, expect, it } from "vitest";
import { openMarketplace } from "./marketplace.js";
import type { Marketplace, PipelineEvent } from "./marketplace.js";
import { folderStorage } from "./storage.js";
import { postgresDatabase, withPostgres } from "./test-support/databases.js";
import { marketplaceApp, startWorld, until } from "./test-support/world.js";
import type { World } from "./test-support/world.js";
import { startWorker } from "./test-support/workers.js";
import type { WorkerConfig, WorkerProcess } from "./test-support/workers.js";

/** A seeded random source: the same shuffles and duplicates on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

/** A clock that never gives one time twice: every event's timestamp tells its order. */
function strictClock(): () => number {
  let last = 0;
  return () => (last = Math.max(Date.now(), last + 1));
}

const baseUrl = "http://127.0.0.1:1/packages/";
const fastJobs = {
  pollingIntervalSeconds: 0.5,
  retryDelaySeconds: 1,
  expireInSeconds: 4,
  maintenanceIntervalSeconds: 1,
};

(withPostgres ? describe : describe.skip)("the pipeline across processes, on PostgreSQL", () => {
  const database = postgresDatabase();
  let world: World | undefined;
  let receiving: Marketplace | undefined;
  const workers: WorkerProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop("SIGKILL")));
    await receiving?.close();
    await world?.close();
    receiving = world = undefined;
  });

  /** A receiver in this process (no workers of its own), on a fresh schema's tables. */
  async function receiver(current: World, received: PipelineEvent[]) {
    await database.fresh();
    receiving = await openMarketplace({
      database: database.url(),
      client: current.client,
      storage: folderStorage(join(current.folder, "packages"), baseUrl),
      jobs: fastJobs,
      onEvent: (event) => received.push(event),
    });
    // Two receivers behind one URL, as on two machines: a duplicate may reach either.
    const receivers = [
      receiving.receiver({ secret: current.secret }),
      receiving.receiver({ secret: current.secret }),
    ];
    let turn = 0;
    await current.listen((request) => receivers[turn++ % 2]!(request));
    return receiving;
  }

  const workerConfig = (current: World, extra: Partial<WorkerConfig> = {}): WorkerConfig => ({
    databaseUrl: database.url(),
    sandboxUrl: current.sandbox.url,
    credentials: current.sandbox.credentials,
    root: join(current.folder, "packages"),
    baseUrl,
    jobs: fastJobs,
    ...extra,
  });

  it("takes 1,000 notifications for 50 apps, duplicated and shuffled, with 2 receivers and 3 worker processes", async () => {
    const apps = Array.from({ length: 50 }, (_, index) => String(6_476_790_000 + index));
    world = await startWorld(apps, {
      assetBytes: 16 * 1024,
      assetChunkBytes: 4 * 1024,
      installTargets: ["iPhone"],
      now: strictClock(),
      notifications: { duplicateRate: 0.1, shuffle: true, random: seeded(7) },
    });
    const current = world;
    const received: PipelineEvent[] = [];
    const marketplace = await receiver(current, received);
    for (let index = 0; index < 3; index++) {
      workers.push(await startWorker(workerConfig(current)));
    }
    // Per app, in order: the package (version 1), then 7 versions, 8 availability changes and
    // 2 territory changes in turn; the last availability change withdraws every fifth app.
    const packages = new Map<string, string>();
    const steps: Array<(app: string, index: number) => Promise<unknown>> = [
      async (app) => packages.set(app, await current.createPackage(app)),
    ];
    for (let round = 1; round <= 8; round++) {
      if (round < 8)
        steps.push((app) =>
          current.sandbox.publishPackageVersion(packages.get(app)!, `1.0.${round}`),
        );
      steps.push(async (app, index) =>
        current.sandbox.setPackageAvailability(
          packages.get(app)!,
          round < 8 ? round % 2 === 0 : index % 5 !== 0,
        ),
      );
      if (round === 3 || round === 6) {
        steps.push(async (app) =>
          current.sandbox.setTerritoryAvailability(app, ["FRA", "DEU"], round === 3),
        );
      }
    }
    // Sent two steps of 25 apps at a time: each batch shuffled, and below the sandbox's 64
    // deliveries waiting per receiver.
    for (let step = 0; step < steps.length; step += 2) {
      for (const group of [apps.slice(0, 25), apps.slice(25)]) {
        for (const app of group) {
          for (const run of steps.slice(step, step + 2)) await run(app, apps.indexOf(app));
        }
        await current.sandbox.notificationsSettled();
      }
    }
    await until(async () => {
      const status = await marketplace.status();
      return status.versions.done === 400 && status.notifications.waiting === 0;
    }, 180_000);

    const deliveries = [];
    for (const webhook of (await listAppWebhooks(current.client, marketplaceApp)).data ?? []) {
      deliveries.push(...((await listWebhookDeliveries(current.client, webhook.id)).data ?? []));
    }
    expect(deliveries.every((delivery) => delivery.attributes?.deliveryState === "SUCCEEDED")).toBe(
      true,
    );
    // 900 events, a tenth of them twice.
    expect(deliveries.length).toBeGreaterThan(950);
    const heard = received.flatMap((event) => (event.kind === "received" ? [event] : []));
    const recorded = heard.filter((event) => !event.duplicate);
    const unique = new Set(recorded.map((event) => event.id));
    expect(unique.size).toBe(steps.length * 50);
    expect(recorded).toHaveLength(unique.size);
    // The duplicates that reached the other receiver: its memory had not seen them, the
    // database had.
    expect(heard.length - recorded.length).toBeGreaterThan(10);
    const status = await marketplace.status();
    expect(status.notifications.received).toBe(unique.size);
    expect(status.versions).toEqual({ queued: 0, running: 0, done: 400, failed: 0 });

    // Every version downloaded once, by one worker, across the three.
    const zips = Object.entries(current.sandbox.stats.assetRequests).filter(([path]) =>
      path.endsWith(".zip"),
    );
    expect(zips).toHaveLength(400);
    expect(zips.every(([, count]) => count === 1)).toBe(true);
    const completed = () =>
      workers.flatMap((worker) =>
        worker.events.filter((event) => event.kind === "ingest-done" && !event.skipped),
      );
    // A worker records a version done before its event reaches this process over IPC: the
    // status can say 20 while the last event is still on its way.
    await until(async () => completed().length >= 20, 10_000).catch(() => undefined);
    const completions = completed();
    expect(completions).toHaveLength(400);
    expect(
      workers.every((worker) => worker.events.some((event) => event.kind === "ingest-done")),
    ).toBe(true);

    // The newest event won for every app, whatever the order they came in.
    for (const [index, app] of apps.entries()) {
      const versions = await marketplace.store.versionsOf([app]);
      expect(versions.map((version) => version.available)).toEqual(Array(8).fill(index % 5 !== 0));
      expect(await marketplace.territoriesOf(app)).toEqual([]);
    }
    const answer = await restoreAll(marketplace, apps);
    const served = new Map(answer.restores.map((entry) => [entry.appleItemId, entry]));
    for (const [index, app] of apps.entries()) {
      if (index % 5 === 0) {
        expect(answer.failures.map((failure) => failure.appleItemId)).toContain(app);
        continue;
      }
      const newest = (await marketplace.store.versionsOf([app])).at(-1)!;
      expect(newest.bundleVersion).toBe("8");
      expect(served.get(app)?.appleVersionId).toBe(newest.appleVersionId);
    }
  });

  it("finishes a version whose worker was killed mid-download, serving nothing partial", async () => {
    const app = "6476788027";
    world = await startWorld([app], { assetBytes: 1024 * 1024, installTargets: ["iPhone"] });
    const current = world;
    const marketplace = await receiver(current, []);
    const slow = await startWorker(workerConfig(current, { bytesPerSecond: 256 * 1024 }));
    workers.push(slow);
    await current.createPackage(app);
    const work = join(current.folder, "packages.work");
    await until(async () => {
      const parts = (
        await readdir(join(work, await folderIn(work), "variant")).catch(() => [])
      ).filter((name) => name.endsWith(".part"));
      const sizes = await Promise.all(
        parts.map(
          async (name) => (await stat(join(work, await folderIn(work), "variant", name))).size,
        ),
      );
      return sizes.some((size) => size >= 256 * 1024);
    });
    await slow.stop("SIGKILL");
    expect(await marketplace.store.versionsOf([app])).toEqual([]);
    expect(await readdir(join(current.folder, "packages")).catch(() => [])).toEqual([]);

    const other = await startWorker(workerConfig(current));
    workers.push(other);
    const done = await other.next((event) => event.kind === "ingest-done");
    expect(done).toMatchObject({ skipped: false });
    expect((done as { resumedBytes: number }).resumedBytes).toBeGreaterThanOrEqual(256 * 1024);
    // Another process's change reaches this one's store within its 5-second cache.
    await until(async () => (await marketplace.store.versionsOf([app]))[0]?.available === true);
    expect((await marketplace.status()).versions).toEqual({
      queued: 0,
      running: 0,
      done: 1,
      failed: 0,
    });
  });

  it("loses no notification and completes no job twice when PostgreSQL restarts", async () => {
    const apps = Array.from({ length: 10 }, (_, index) => String(6_476_791_000 + index));
    world = await startWorld(apps, { assetBytes: 64 * 1024, installTargets: ["iPhone"] });
    const current = world;
    const received: PipelineEvent[] = [];
    const marketplace = await receiver(current, received);
    for (let index = 0; index < 2; index++) workers.push(await startWorker(workerConfig(current)));
    const packages: string[] = [];
    for (const app of apps) packages.push(await current.createPackage(app));
    await current.sandbox.notificationsSettled();
    await Promise.race(
      workers.map((worker) => worker.next((event) => event.kind === "ingest-done")),
    );
    await database.postgres!.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await database.postgres!.start();
    for (const id of packages) await current.sandbox.publishPackageVersion(id, "1.0.1");
    await current.sandbox.notificationsSettled();

    await until(
      async () => (await marketplace.status().catch(() => undefined))?.versions.done === 20,
      120_000,
    );
    const status = await marketplace.status();
    expect(status.versions).toEqual({ queued: 0, running: 0, done: 20, failed: 0 });
    expect(status.notifications).toMatchObject({ received: 20, handled: 20, failed: 0 });
    const completed = () =>
      workers.flatMap((worker) =>
        worker.events.filter((event) => event.kind === "ingest-done" && !event.skipped),
      );
    // A worker records a version done before its event reaches this process over IPC: the
    // status can say 20 while the last event is still on its way.
    await until(async () => completed().length >= 20, 10_000).catch(() => undefined);
    const completions = completed();
    expect(
      new Set(completions.map((event) => (event as { versionId: string }).versionId)).size,
    ).toBe(20);
    expect(completions).toHaveLength(20);
  });
});

async function folderIn(folder: string): Promise<string> {
  const names = await readdir(folder).catch(() => [] as string[]);
  return names.find((name) => !name.endsWith(".json")) ?? "none";
}

/** Restores every app for one account through the distribution handler on the same store. */
async function restoreAll(marketplace: Marketplace, apps: readonly string[]) {
  const keys = await generateKeyPair();
  const handler = createDistributionHandler({
    store: marketplace.store,
    configuration: marketplaceKitConfiguration({
      restore: "http://127.0.0.1/restore",
      updatesUrl: "http://127.0.0.1/updates",
    }),
    signer: createInstallTokenSigner({
      privateKey: keys.privateKeyPem,
      keyId: "KEY1234567",
      appleItemId: marketplaceApp,
    }),
    authenticate: () => ({ account: "someone" }),
  });
  const response = await handler(
    new Request("http://127.0.0.1/restore", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apps: apps.map((appleItemId) => ({ appleItemId })),
        platform: "iOS",
        osVersion: "18.0",
      }),
    }),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as {
    restores: Array<{ appleItemId: string; appleVersionId: string; bundleVersion?: string }>;
    failures: Array<{ appleItemId: string }>;
  };
}
