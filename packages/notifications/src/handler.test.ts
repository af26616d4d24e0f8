import { describe, expect, it } from "vitest";
import { createNotificationHandler, parseNotification, signNotification } from "./index.js";
import type { MarketplaceNotification } from "./index.js";

const secret = "a webhook secret";
const available = JSON.stringify({
  data: {
    type: "alternativeDistributionPackageVersionAvailable",
    version: 1,
    id: "n-1",
    timestamp: "2026-12-01T10:00:00Z",
    attributes: {
      marketplaceAppId: "111",
      appId: "6476788026",
      alternativeDistributionPackageId: "p-1",
      alternativeDistributionPackageVersionId: "pv-1",
      alternativeDistributionPackageVersionNum: "1.0",
      eventTimestamp: "2026-12-01T09:59:00Z",
    },
  },
});

async function post(body: string, header?: string, method = "POST") {
  return new Request("https://marketplace.example/notifications", {
    method,
    headers: { "x-apple-signature": header ?? (await signNotification(body, secret)) },
    ...(method === "POST" ? { body } : {}),
  });
}

describe("parseNotification", () => {
  it("types the three marketplace notifications, and keeps an unknown one whole", () => {
    expect(parseNotification(available)).toMatchObject({
      type: "alternativeDistributionPackageVersionAvailable",
      id: "n-1",
      alternativeDistributionPackageVersionId: "pv-1",
      eventTimestamp: "2026-12-01T09:59:00Z",
    });
    const unavailable = (type: string, extra = {}) =>
      JSON.stringify({
        data: { type, id: "n-2", attributes: { marketplaceAppId: "1", appId: "2", ...extra } },
      });
    // Apple's page spells this type two ways.
    for (const type of ["AppVersionsUnavailable", "AppVersionUnavailable"]) {
      expect(
        parseNotification(unavailable(type, { alternativeDistributionPackageIds: ["p-1"] })),
      ).toMatchObject({
        type: "appVersionsUnavailable",
        alternativeDistributionPackageIds: ["p-1"],
      });
    }
    expect(parseNotification(unavailable("AppUnavailable")).type).toBe("appUnavailable");
    expect(parseNotification(unavailable("SomethingNew"))).toMatchObject({
      type: "unknown",
      sentType: "SomethingNew",
    });
    expect(() =>
      parseNotification('{"data":{"type":"AppUnavailable","id":"x","attributes":{}}}'),
    ).toThrow(expect.objectContaining({ code: "ERR_PAYLOAD_INVALID" }));
  });
});

describe("parseNotification with /v1/webhooks events", () => {
  const event = (type: string, attributes: Record<string, unknown>, instanceType: string) =>
    JSON.stringify({
      data: {
        type,
        id: "e-1",
        version: 1,
        attributes: { appId: "6476788026", timestamp: "2026-12-01T10:00:00Z", ...attributes },
        relationships: {
          instance: { data: { type: instanceType, id: "i-1" } },
          marketplaceApp: { data: { type: "apps", id: "111" } },
        },
      },
    });

  it("types the three alternative distribution events and a ping", () => {
    expect(
      parseNotification(
        event(
          "alternativeDistributionPackageVersionCreated",
          {},
          "alternativeDistributionPackageVersions",
        ),
      ),
    ).toMatchObject({
      type: "alternativeDistributionPackageVersionCreated",
      id: "e-1",
      appId: "6476788026",
      marketplaceAppId: "111",
      instance: { type: "alternativeDistributionPackageVersions", id: "i-1" },
    });
    expect(
      parseNotification(
        event(
          "alternativeDistributionPackageAvailableUpdated",
          { available: false },
          "alternativeDistributionPackages",
        ),
      ),
    ).toMatchObject({ type: "alternativeDistributionPackageAvailableUpdated", available: false });
    expect(
      parseNotification(
        event(
          "alternativeDistributionTerritoryAvailabilityUpdated",
          { available: true, territories: ["DEU", "FRA"] },
          "apps",
        ),
      ),
    ).toMatchObject({ available: true, territories: ["DEU", "FRA"] });
    expect(
      parseNotification('{"data":{"type":"webhookPingCreated","id":"p-1","attributes":{}}}'),
    ).toMatchObject({ type: "webhookPingCreated", id: "p-1" });
  });

  it("refuses an event without its app or its instance", () => {
    const withoutInstance = JSON.stringify({
      data: {
        type: "alternativeDistributionPackageVersionCreated",
        id: "e",
        attributes: { appId: "1" },
      },
    });
    expect(() => parseNotification(withoutInstance)).toThrow(/relationships\.instance/);
    expect(() =>
      parseNotification(
        event(
          "alternativeDistributionPackageVersionCreated",
          { appId: 5 },
          "alternativeDistributionPackageVersions",
        ),
      ),
    ).toThrow(/attributes\.appId/);
    expect(() =>
      parseNotification(
        event(
          "alternativeDistributionTerritoryAvailabilityUpdated",
          { territories: "DEU" },
          "apps",
        ),
      ),
    ).toThrow(/territories/);
  });
});

describe("createNotificationHandler", () => {
  it("verifies, parses, discards a duplicate and answers with the status alone", async () => {
    const received: MarketplaceNotification[] = [];
    const handle = createNotificationHandler({
      secret,
      onNotification: (n) => void received.push(n),
    });
    expect((await handle(await post(available))).status).toBe(200);
    expect((await handle(await post(available))).status).toBe(200);
    expect(received.map((n) => n.id)).toEqual(["n-1"]);

    const forged = await handle(
      await post(available.replace("pv-1", "pv-2"), await signNotification(available, secret)),
    );
    expect(forged.status).toBe(401);
    expect(await forged.text()).toBe("");
    expect(
      (await handle(await post(available, await signNotification(available, "another")))).status,
    ).toBe(401);
    expect((await handle(await post("{}", await signNotification("{}", secret)))).status).toBe(400);
    expect((await handle(await post(available, undefined, "GET"))).status).toBe(405);
    const large = "x".repeat(70_000);
    expect((await handle(await post(large))).status).toBe(413);
    expect(received).toHaveLength(1);
  });

  it("answers 500 when the callback fails, and handles the next delivery again", async () => {
    let calls = 0;
    const handle = createNotificationHandler({
      secret,
      onNotification: () => {
        if (++calls === 1) throw new Error("database down");
      },
    });
    expect((await handle(await post(available))).status).toBe(500);
    expect((await handle(await post(available))).status).toBe(200);
    expect(calls).toBe(2);
    expect((await handle(await post(available))).status).toBe(200);
    expect(calls).toBe(2);
  });
});
