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

  it("answers 500, never rejects, when the store fails or the body breaks off", async () => {
    const refusals: string[] = [];
    const failingStore = (which: "add" | "remove") => ({
      add: async () => {
        if (which === "add") throw new Error("store down");
        return true;
      },
      remove: async () => {
        throw new Error("store down");
      },
    });
    for (const [store, onNotification] of [
      [failingStore("add"), () => undefined],
      [failingStore("remove"), () => Promise.reject(new Error("handler down"))],
    ] as const) {
      const handle = createNotificationHandler({
        secret,
        store,
        onNotification,
        onRefused: (error, status) => refusals.push(`${status} ${error.code}`),
      });
      expect((await handle(await post(available))).status).toBe(500);
    }
    const handle = createNotificationHandler({
      secret,
      onNotification: () => undefined,
      onRefused: (error, status) => refusals.push(`${status} ${error.code}`),
    });
    for (const breakAt of [0, 10]) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          if (breakAt > 0)
            controller.enqueue(new TextEncoder().encode(available.slice(0, breakAt)));
          controller.error(new Error("the connection broke off"));
        },
      });
      const broken = new Request("https://marketplace.example/", {
        method: "POST",
        headers: { "x-apple-signature": await signNotification(available, secret) },
        body,
        duplex: "half",
      } as RequestInit);
      expect((await handle(broken)).status).toBe(500);
    }
    expect(refusals).toEqual([
      "500 ERR_STORE_FAILED",
      "500 ERR_STORE_FAILED",
      "500 ERR_BODY_UNREADABLE",
      "500 ERR_BODY_UNREADABLE",
    ]);
    // The notification whose body broke off was never taken: its next delivery is handled.
    expect((await handle(await post(available))).status).toBe(200);
  });

  it("answers a duplicate as its original ends: 500 while a failing one is under way", async () => {
    let release!: (outcome: "fail" | "succeed") => void;
    const handled: string[] = [];
    const handle = createNotificationHandler({
      secret,
      onNotification: async (notification) => {
        const outcome = await new Promise<string>((resolve) => (release = resolve));
        if (outcome === "fail") throw new Error("could not download");
        handled.push(notification.id);
      },
    });
    for (const outcome of ["fail", "succeed"] as const) {
      const original = handle(await post(available));
      const duplicates = [handle(await post(available)), handle(await post(available))];
      await new Promise((resolve) => setTimeout(resolve, 10));
      release(outcome);
      const statuses = (await Promise.all([original, ...duplicates])).map(
        (answer) => answer.status,
      );
      expect(statuses).toEqual(outcome === "fail" ? [500, 500, 500] : [200, 200, 200]);
    }
    expect(handled).toEqual(["n-1"]);
    // Handled once: later deliveries are duplicates, answered at once.
    expect((await handle(await post(available))).status).toBe(200);
  });

  it("tells onRefused why, without the secret, the signature or the body", async () => {
    const told: Array<{ status: number; code: string; message: string }> = [];
    const handle = createNotificationHandler({
      secret,
      onNotification: () => undefined,
      onRefused: (error, status) => told.push({ status, code: error.code, message: error.message }),
    });
    const signature = await signNotification(available, "another");
    await handle(await post(available, signature));
    await handle(await post(available, "hmacsha256=12"));
    await handle(await post(available, ""));
    await handle(await post("not json", await signNotification("not json", secret)));
    await handle(await post("x".repeat(70_000)));
    await handle(await post(available, undefined, "DELETE"));
    expect(told.map(({ status, code }) => `${status} ${code}`)).toEqual([
      "401 ERR_SIGNATURE_MISMATCH",
      "401 ERR_SIGNATURE_MALFORMED",
      "401 ERR_SIGNATURE_MISSING",
      "400 ERR_PAYLOAD_INVALID",
      "413 ERR_BODY_TOO_LARGE",
      "405 ERR_METHOD_NOT_ALLOWED",
    ]);
    const messages = told.map((entry) => entry.message).join("\n");
    for (const hidden of [secret, signature.slice(11), "not json", "pv-1"]) {
      expect(messages).not.toContain(hidden);
    }
  });
});
