import { describe, expect, it } from "vitest";
import type { DistributionStore, VersionRecord } from "../store.js";

let next = 1_000_000;
/** A fresh Apple ID: the suite shares one store across its tests. */
export const freshId = () => String(next++);

export function versionRecord(overrides: Partial<VersionRecord> = {}): VersionRecord {
  const appleItemId = overrides.appleItemId ?? freshId();
  return {
    appleItemId,
    appleVersionId: freshId(),
    bundleId: `com.example.app${appleItemId}`,
    shortVersionString: "1.0",
    bundleVersion: "1",
    platforms: ["iOS"],
    minimumSystemVersions: { iOS: "17.4" },
    packageUrl: `https://apps.example.com/packages/${appleItemId}/1/`,
    ...overrides,
  };
}

/**
 * What every `DistributionStore` must do, run against each adapter. `store()` is the adapter
 * under test; `reopen()` closes it and opens it again on the same data.
 */
export function storeContract(store: () => DistributionStore, reopen: () => Promise<void>): void {
  describe("the store contract", () => {
    it("registers versions and reads them back, updating where one is served", async () => {
      const first = versionRecord();
      const second = versionRecord({ appleItemId: first.appleItemId, bundleVersion: "2" });
      await store().registerVersion(first);
      await store().registerVersion(second);
      await store().registerVersion({ ...first, packageUrl: "https://cdn.example/p/1/" });
      const read = await store().versionsOf([first.appleItemId, freshId()]);
      const registeredAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(read).toEqual([
        { ...first, packageUrl: "https://cdn.example/p/1/", available: true, registeredAt },
        { ...second, available: true, registeredAt },
      ]);
      expect(await store().versionsOf([])).toEqual([]);
      expect(await store().apps()).toContain(first.appleItemId);
    });

    it("starts a new version withdrawn when asked, and a registration again keeps its state", async () => {
      const held = versionRecord();
      await store().registerVersion(held, { available: false });
      await store().registerVersion(held, { available: true });
      const [read] = await store().versionsOf([held.appleItemId]);
      expect(read?.available).toBe(false);
      const apps = await store().apps();
      expect(apps).toEqual([...apps].sort());
    });

    it("withdraws a version or a whole app, and a new registration brings nothing back", async () => {
      const first = versionRecord();
      const second = versionRecord({ appleItemId: first.appleItemId, bundleVersion: "2" });
      await store().registerVersion(first);
      await store().registerVersion(second);
      expect(await store().setAvailability(false, first.appleItemId, second.appleVersionId)).toBe(
        1,
      );
      await store().registerVersion(second);
      const states = async () =>
        (await store().versionsOf([first.appleItemId])).map((version) => version.available);
      expect(await states()).toEqual([true, false]);
      expect(await store().setAvailability(false, first.appleItemId)).toBe(1);
      expect(await states()).toEqual([false, false]);
      expect(await store().setAvailability(true, first.appleItemId)).toBe(1);
      expect(await states()).toEqual([true, false]);
      expect(await store().setAvailability(false, first.appleItemId, freshId())).toBe(0);
    });

    it("claims download once per account and app, then redownload", async () => {
      const [app, other] = [freshId(), freshId()];
      const first = await store().claimInstalls("alice", [app, other]);
      expect(Object.fromEntries(first)).toEqual({ [app]: "download", [other]: "download" });
      const again = await store().claimInstalls("alice", [app, app]);
      expect(Object.fromEntries(again)).toEqual({ [app]: "redownload" });
      expect((await store().claimInstalls("bob", [app])).get(app)).toBe("download");
      expect((await store().claimInstalls("alice", [])).size).toBe(0);
    });

    it("hands out exactly one download to 500 concurrent claims for one account and app", async () => {
      const app = freshId();
      const claims = await Promise.all(
        Array.from({ length: 500 }, () => store().claimInstalls("carol", [app])),
      );
      const downloads = claims.filter((claim) => claim.get(app) === "download");
      expect(downloads).toHaveLength(1);
    });

    it("gives a grant to one taker only, and never an expired one", async () => {
      const grant = (hash: string, expiresAt = new Date(Date.now() + 60_000)) => ({
        kind: "code" as const,
        hash,
        account: "ivan",
        data: { challenge: "c", clientId: "d" },
        expiresAt,
      });
      await store().saveGrant(grant("once"));
      const takers = await Promise.all(
        Array.from({ length: 50 }, () => store().takeGrant("code", "once")),
      );
      expect(takers.filter(Boolean)).toEqual([
        { account: "ivan", data: { challenge: "c", clientId: "d" } },
      ]);
      expect(await store().takeGrant("code", "once")).toBeUndefined();
      await store().saveGrant(grant("expired", new Date(Date.now() - 1_000)));
      expect(await store().takeGrant("code", "expired")).toBeUndefined();
      await store().saveGrant(grant("other-kind"));
      expect(await store().takeGrant("refresh", "other-kind")).toBeUndefined();
    });

    it("keeps everything through a close and a reopen", async () => {
      const record = versionRecord();
      await store().registerVersion(record);
      await store().setAvailability(false, record.appleItemId, record.appleVersionId);
      await store().claimInstalls("dave", [record.appleItemId]);
      const [before] = await store().versionsOf([record.appleItemId]);
      await reopen();
      expect(await store().versionsOf([record.appleItemId])).toEqual([
        { ...record, available: false, registeredAt: before!.registeredAt },
      ]);
      expect(
        (await store().claimInstalls("dave", [record.appleItemId])).get(record.appleItemId),
      ).toBe("redownload");
    });
  });
}
