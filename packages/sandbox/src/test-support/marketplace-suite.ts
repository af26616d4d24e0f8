import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { webhookEventTypes } from "@asc-kit/core";
import { createNotificationHandler, verifySignature } from "@asc-kit/notifications";
import type { MarketplaceNotification } from "@asc-kit/notifications";
import { afterEach, describe, expect, it } from "vitest";
import { maxQueuedDeliveries } from "../notifier.js";
import { hangingServer, startReceiver } from "./receiver.js";
import { excerptEnum } from "./spec-validator.js";
import { starter } from "./suite.js";
import type { Opener } from "./suite.js";

const app = "6476788026";
const secret = "a webhook secret that is long enough";
const versionCreated = "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED";
const webhookBody = (url: string, overrides: Record<string, unknown> = {}) => ({
  data: {
    type: "webhooks",
    attributes: {
      name: "marketplace",
      secret,
      eventTypes: [versionCreated],
      url,
      enabled: true,
      ...overrides,
    },
    relationships: { app: { data: { type: "apps", id: app } } },
  },
});

/** Webhooks, signed deliveries and search details, the same over every transport. */
export function marketplaceSuite(open: Opener): void {
  const start = starter(open);
  const receivers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });
  const receiver = async (status?: number) => {
    const started = await startReceiver(status);
    receivers.push(started);
    return started;
  };
  const createPackage = (call: Awaited<ReturnType<typeof start>>["call"]) =>
    call("POST", "/v1/alternativeDistributionPackages", {
      data: {
        type: "alternativeDistributionPackages",
        relationships: {
          appStoreVersion: { data: { type: "appStoreVersions", id: `${app}-1.0` } },
        },
      },
    });

  describe("webhooks", () => {
    it("are created, read, listed, changed and deleted, and never show their secret", async () => {
      const { call } = await start();
      const created = await call(
        "POST",
        "/v1/webhooks",
        webhookBody("https://marketplace.example/hook"),
      );
      expect(created.status).toBe(201);
      const id = created.json!.data.id as string;
      expect(JSON.stringify(created.json)).not.toContain(secret);
      const read = await call("GET", `/v1/webhooks/${id}?include=app`);
      expect(read.json!.data.attributes).toEqual({
        enabled: true,
        eventTypes: [versionCreated],
        name: "marketplace",
        url: "https://marketplace.example/hook",
      });
      expect(read.json!.included).toEqual([expect.objectContaining({ type: "apps", id: app })]);
      const listed = await call("GET", `/v1/apps/${app}/webhooks`);
      expect(listed.json!.data.map((webhook: { id: string }) => webhook.id)).toEqual([id]);
      expect((await call("GET", `/v1/apps/${app}/relationships/webhooks`)).json!.data).toEqual([
        { type: "webhooks", id },
      ]);
      const changed = await call("PATCH", `/v1/webhooks/${id}`, {
        data: { type: "webhooks", id, attributes: { enabled: false, secret: "another secret" } },
      });
      expect(changed.json!.data.attributes.enabled).toBe(false);
      expect(JSON.stringify(changed.json)).not.toContain("another secret");
      expect((await call("DELETE", `/v1/webhooks/${id}`)).status).toBe(204);
      expect((await call("GET", `/v1/webhooks/${id}`)).status).toBe(404);
    });

    it("take every event type of the excerpt, and refuse a missing secret, unknown event types, plain http off loopback and an unknown app", async () => {
      const { call } = await start();
      const refused = async (body: unknown, pointer: string) => {
        const answer = await call("POST", "/v1/webhooks", body);
        expect(answer.status).toBe(422);
        expect(answer.json!.errors[0].source.pointer).toBe(pointer);
      };
      const body = webhookBody("https://marketplace.example/hook");
      delete (body.data.attributes as Record<string, unknown>).secret;
      await refused(body, "/data/attributes/secret");
      await refused(
        webhookBody("https://m.example", { eventTypes: ["NEW_APP"] }),
        "/data/attributes/eventTypes",
      );
      // Every type the excerpt lists, as core lists them, is taken.
      expect([...webhookEventTypes].sort()).toEqual([...excerptEnum("WebhookEventType")].sort());
      const all = await call(
        "POST",
        "/v1/webhooks",
        webhookBody("https://m.example", { eventTypes: [...webhookEventTypes] }),
      );
      expect(all.status).toBe(201);
      await refused(webhookBody("http://marketplace.example/hook"), "/data/attributes/url");
      const other = webhookBody("https://m.example");
      other.data.relationships.app.data.id = "1";
      await refused(other, "/data/relationships/app/data/id");
    });

    it("are POSTed a signed notification when a package version is created, recorded as a delivery", async () => {
      const { call, sandbox } = await start();
      const hook = await receiver();
      const webhookId = (await call("POST", "/v1/webhooks", webhookBody(hook.url))).json!.data
        .id as string;
      const packageId = (await createPackage(call)).json!.data.id as string;
      await sandbox.notificationsSettled();
      expect(hook.received).toHaveLength(1);
      const [notification] = hook.received;
      await verifySignature(
        new TextEncoder().encode(notification!.body),
        notification!.signature ?? null,
        secret,
      );
      const [data] = hook.data();
      const versions = await call(
        "GET",
        `/v1/alternativeDistributionPackages/${packageId}/versions`,
      );
      expect(data).toMatchObject({
        type: "alternativeDistributionPackageVersionCreated",
        version: 1,
        attributes: { appId: app },
        relationships: {
          instance: {
            data: { type: "alternativeDistributionPackageVersions", id: versions.json!.data[0].id },
          },
          marketplaceApp: { data: { type: "apps", id: app } },
        },
      });
      const deliveries = await call("GET", `/v1/webhooks/${webhookId}/deliveries?include=event`);
      expect(deliveries.json!.data).toEqual([
        expect.objectContaining({
          attributes: expect.objectContaining({
            deliveryState: "SUCCEEDED",
            redelivery: false,
            response: { httpStatusCode: 200, body: "ok" },
          }),
        }),
      ]);
      expect(deliveries.json!.included[0].attributes).toMatchObject({
        eventType: versionCreated,
        payload: notification!.body,
        ping: false,
      });
      const failedOnly = await call(
        "GET",
        `/v1/webhooks/${webhookId}/deliveries?filter[deliveryState]=FAILED`,
      );
      expect(failedOnly.json!.data).toEqual([]);
    });

    it("redeliver a delivery's event, send a ping, and record a receiver's failure", async () => {
      const { call, sandbox } = await start();
      const hook = await receiver(500);
      const webhookId = (await call("POST", "/v1/webhooks", webhookBody(hook.url))).json!.data
        .id as string;
      await createPackage(call);
      await sandbox.notificationsSettled();
      const [first] = (await call("GET", `/v1/webhooks/${webhookId}/deliveries`)).json!.data;
      expect(first.attributes).toMatchObject({
        deliveryState: "FAILED",
        response: { httpStatusCode: 500 },
      });
      hook.status = 200;
      const again = await call("POST", "/v1/webhookDeliveries", {
        data: {
          type: "webhookDeliveries",
          relationships: { template: { data: { type: "webhookDeliveries", id: first.id } } },
        },
      });
      expect(again.status).toBe(201);
      expect(again.json!.data.attributes.redelivery).toBe(true);
      const ping = await call("POST", "/v1/webhookPings", {
        data: {
          type: "webhookPings",
          relationships: { webhook: { data: { type: "webhooks", id: webhookId } } },
        },
      });
      expect(ping.status).toBe(201);
      await sandbox.notificationsSettled();
      const [original, redelivered, pinged] = hook.data();
      expect(redelivered!.id).toBe(original!.id);
      expect(pinged!.type).toBe("webhookPingCreated");
      const states = (await call("GET", `/v1/webhooks/${webhookId}/deliveries`)).json!.data.map(
        (delivery: { attributes: { deliveryState: string } }) => delivery.attributes.deliveryState,
      );
      expect(states).toEqual(["SUCCEEDED", "SUCCEEDED", "FAILED"]);
    });

    it("send to each receiver apart: one that hangs holds up only its own, bounded backlog", async () => {
      const { call, sandbox } = await start({ notifications: { timeoutMs: 3_000 } });
      const hanging = await hangingServer((socket) => void socket);
      const healthy = await receiver();
      const hook = async (url: string) =>
        (await call("POST", "/v1/webhooks", webhookBody(url))).json!.data.id as string;
      const [stuck, fine] = [await hook(hanging.url), await hook(healthy.url)];
      const ping = (webhookId: string) =>
        call("POST", "/v1/webhookPings", {
          data: {
            type: "webhookPings",
            relationships: { webhook: { data: { type: "webhooks", id: webhookId } } },
          },
        });
      const pings = maxQueuedDeliveries + 20;
      for (let sent = 0; sent < pings; sent++) await ping(stuck);
      await ping(fine);
      // Delivered while the first of the stuck ones still waits for its 3 s timeout.
      await expect.poll(() => healthy.received.length, { timeout: 2_000 }).toBe(1);
      const deliveries = (await call("GET", `/v1/webhooks/${stuck}/deliveries?limit=200`)).json!
        .data as Array<{ attributes: { deliveryState: string; errorMessage?: string } }>;
      const turnedAway = deliveries.filter((delivery) =>
        /already waiting for this receiver/.test(delivery.attributes.errorMessage ?? ""),
      );
      expect(turnedAway.length).toBeGreaterThanOrEqual(pings - maxQueuedDeliveries - 1);
      expect(turnedAway.every((delivery) => delivery.attributes.deliveryState === "FAILED")).toBe(
        true,
      );
      await hanging.close();
      await sandbox.notificationsSettled();
    });

    it("read no more of a receiver's answer than the kilobyte kept", async () => {
      const { call, sandbox } = await start();
      let written = 0;
      const flooding = await hangingServer((socket) => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        const block = Buffer.alloc(64 * 1024, "a");
        const pump = () => {
          // 400 MB at most, as fast as the sandbox reads.
          while (!socket.destroyed && written < 400 * 1024 * 1024) {
            written += block.length;
            if (!socket.write(block)) return void socket.once("drain", pump);
          }
          socket.end();
        };
        pump();
      });
      const webhookId = (await call("POST", "/v1/webhooks", webhookBody(flooding.url))).json!.data
        .id as string;
      await call("POST", "/v1/webhookPings", {
        data: {
          type: "webhookPings",
          relationships: { webhook: { data: { type: "webhooks", id: webhookId } } },
        },
      });
      await sandbox.notificationsSettled();
      const [delivery] = (await call("GET", `/v1/webhooks/${webhookId}/deliveries`)).json!.data;
      expect(delivery.attributes).toMatchObject({ deliveryState: "SUCCEEDED" });
      expect(delivery.attributes.response.body).toHaveLength(1024);
      // The sandbox let go long before the 400 MB: what was written is what the buffers took.
      expect(written).toBeLessThan(64 * 1024 * 1024);
      await flooding.close();
    });

    it("never POST off loopback: such a delivery fails, saying why", async () => {
      const { call, sandbox } = await start();
      const webhookId = (
        await call("POST", "/v1/webhooks", webhookBody("https://marketplace.example/hook"))
      ).json!.data.id as string;
      await createPackage(call);
      await sandbox.notificationsSettled();
      const [delivery] = (await call("GET", `/v1/webhooks/${webhookId}/deliveries`)).json!.data;
      expect(delivery.attributes.deliveryState).toBe("FAILED");
      expect(delivery.attributes.errorMessage).toMatch(/loopback addresses only/);
    });

    it("deliver duplicates and out of order when asked to, as Apple warns it may", async () => {
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const { call, sandbox } = await start({
        notifications: { duplicateRate: 1, shuffle: true, random },
      });
      const hook = await receiver();
      await call("POST", "/v1/webhooks", webhookBody(hook.url));
      const packageId = (await createPackage(call)).json!.data.id as string;
      await sandbox.notificationsSettled();
      const published = [
        await sandbox.publishPackageVersion(packageId),
        await sandbox.publishPackageVersion(packageId),
        await sandbox.publishPackageVersion(packageId),
      ];
      await sandbox.notificationsSettled();
      const versionIds = hook.data().map((data) => data.relationships.instance.data.id as string);
      // Every event twice, with the same event id.
      expect(versionIds).toHaveLength(8);
      const ids = hook.data().map((data) => data.id as string);
      expect(new Set(ids).size).toBe(4);
      const later = versionIds.slice(2);
      expect(new Set(later)).toEqual(new Set(published));
      expect(later).not.toEqual(published.flatMap((id) => [id, id]));
    });

    it("are told when a package, an app or territories change availability", async () => {
      const { call, sandbox } = await start();
      const hook = await receiver();
      await call(
        "POST",
        "/v1/webhooks",
        webhookBody(hook.url, {
          eventTypes: [
            "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
            "ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED",
          ],
        }),
      );
      const packageId = (await createPackage(call)).json!.data.id as string;
      sandbox.setPackageAvailability(packageId, true);
      sandbox.withdrawApp(app);
      sandbox.setTerritoryAvailability(app, ["DEU", "FRA"], false);
      expect(() => sandbox.setTerritoryAvailability(app, ["de"], false)).toThrow(TypeError);
      await sandbox.notificationsSettled();
      // Not subscribed to VERSION_CREATED: the package's creation is not sent.
      expect(hook.data().map((data) => [data.type, data.attributes.available])).toEqual([
        ["alternativeDistributionPackageAvailableUpdated", true],
        ["alternativeDistributionPackageAvailableUpdated", false],
        ["alternativeDistributionTerritoryAvailabilityUpdated", false],
      ]);
      expect(hook.data()[1]!.relationships.instance.data).toEqual({
        type: "alternativeDistributionPackages",
        id: packageId,
      });
      expect(hook.data()[2]!.attributes.territories).toEqual(["DEU", "FRA"]);
    });

    it("make a published version COMPLETED and the one before REPLACED", async () => {
      const { call, sandbox } = await start();
      const packageId = (await createPackage(call)).json!.data.id as string;
      const newest = await sandbox.publishPackageVersion(packageId, "1.0.1");
      const replaced = await call(
        "GET",
        `/v1/alternativeDistributionPackages/${packageId}/versions?filter[state]=REPLACED`,
      );
      expect(replaced.json!.data).toHaveLength(1);
      const completed = await call(
        "GET",
        `/v1/alternativeDistributionPackages/${packageId}/versions?filter[state]=COMPLETED`,
      );
      expect(completed.json!.data.map((version: { id: string }) => version.id)).toEqual([newest]);
      expect(completed.json!.data[0].attributes.version).toBe("1.0.1");
    });
  });

  describe("end to end with @asc-kit/notifications", () => {
    it("receives, verifies, parses and de-duplicates what the sandbox sends", async () => {
      const received: MarketplaceNotification[] = [];
      const handle = createNotificationHandler({
        secret,
        onNotification: (notification) => void received.push(notification),
      });
      // The handler served over node:http, as a marketplace's server would.
      const server = createServer(async (request, response) => {
        const answer = await handle(
          new Request(`http://127.0.0.1${request.url}`, {
            method: request.method,
            headers: request.headers as Record<string, string>,
            body: Readable.toWeb(request) as ReadableStream<Uint8Array>,
            duplex: "half",
          } as RequestInit),
        );
        response.writeHead(answer.status).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      receivers.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications`;
      const { call, sandbox } = await start({ notifications: { duplicateRate: 1 } });
      await call("POST", "/v1/webhooks", webhookBody(url));
      await call("POST", "/v1/marketplaceWebhooks", {
        data: { type: "marketplaceWebhooks", attributes: { endpointUrl: url, secret } },
      });
      const packageId = (await createPackage(call)).json!.data.id as string;
      await sandbox.notificationsSettled();
      // Each was sent twice; the handler passed each on once.
      expect(received.map((notification) => notification.type).sort()).toEqual([
        "alternativeDistributionPackageVersionAvailable",
        "alternativeDistributionPackageVersionCreated",
      ]);
      const created = received.find(
        (notification) => notification.type === "alternativeDistributionPackageVersionCreated",
      );
      const available = received.find(
        (notification) => notification.type === "alternativeDistributionPackageVersionAvailable",
      );
      expect(available).toMatchObject({ alternativeDistributionPackageId: packageId, appId: app });
      expect(created).toMatchObject({
        appId: app,
        instance: {
          type: "alternativeDistributionPackageVersions",
          id: (available as { alternativeDistributionPackageVersionId: string })
            .alternativeDistributionPackageVersionId,
        },
      });
    });
  });

  describe("the marketplace webhook (deprecated)", () => {
    it("is one per account, hides its secret, and is sent Apple's marketplace notifications", async () => {
      const { call, sandbox } = await start();
      const hook = await receiver();
      const body = {
        data: { type: "marketplaceWebhooks", attributes: { endpointUrl: hook.url, secret } },
      };
      const created = await call("POST", "/v1/marketplaceWebhooks", body);
      expect(created.status).toBe(201);
      expect(JSON.stringify(created.json)).not.toContain(secret);
      expect((await call("POST", "/v1/marketplaceWebhooks", body)).status).toBe(409);
      const packageId = (await createPackage(call)).json!.data.id as string;
      sandbox.setPackageAvailability(packageId, false);
      sandbox.withdrawApp(app);
      await sandbox.notificationsSettled();
      for (const item of hook.received) {
        await verifySignature(new TextEncoder().encode(item.body), item.signature ?? null, secret);
      }
      expect(hook.data().map((data) => data.type)).toEqual([
        "AlternativeDistributionPackageVersionAvailable",
        "AppVersionsUnavailable",
        "AppUnavailable",
      ]);
      expect(hook.data()[0]!.attributes).toMatchObject({
        appId: app,
        alternativeDistributionPackageId: packageId,
      });
      const id = created.json!.data.id as string;
      const changed = await call("PATCH", `/v1/marketplaceWebhooks/${id}`, {
        data: {
          type: "marketplaceWebhooks",
          id,
          attributes: { endpointUrl: "https://m.example/n" },
        },
      });
      expect(changed.json!.data.attributes.endpointUrl).toBe("https://m.example/n");
      expect((await call("GET", "/v1/marketplaceWebhooks")).json!.data).toHaveLength(1);
      expect((await call("DELETE", `/v1/marketplaceWebhooks/${id}`)).status).toBe(204);
    });
  });

  describe("marketplace search details", () => {
    it("need an https catalogUrl on a registered domain, one per app", async () => {
      const { call } = await start();
      const body = (catalogUrl: string) => ({
        data: {
          type: "marketplaceSearchDetails",
          attributes: { catalogUrl },
          relationships: { app: { data: { type: "apps", id: app } } },
        },
      });
      const unregistered = await call(
        "POST",
        "/v1/marketplaceSearchDetails",
        body("https://apps.example.com/sitemap.xml"),
      );
      expect(unregistered.status).toBe(422);
      expect(unregistered.json!.errors[0].detail).toMatch(
        /registered alternative distribution domain/,
      );
      await call("POST", "/v1/alternativeDistributionDomains", {
        data: {
          type: "alternativeDistributionDomains",
          attributes: { domain: "example.com", referenceName: "Store" },
        },
      });
      expect(
        (await call("POST", "/v1/marketplaceSearchDetails", body("http://apps.example.com/s.xml")))
          .status,
      ).toBe(422);
      const created = await call(
        "POST",
        "/v1/marketplaceSearchDetails",
        body("https://apps.example.com/sitemap.xml"),
      );
      expect(created.status).toBe(201);
      expect(
        (await call("POST", "/v1/marketplaceSearchDetails", body("https://apps.example.com/x.xml")))
          .status,
      ).toBe(409);
      const id = created.json!.data.id as string;
      expect((await call("GET", `/v1/apps/${app}/marketplaceSearchDetail`)).json!.data.id).toBe(id);
      expect(
        (await call("GET", `/v1/apps/${app}/relationships/marketplaceSearchDetail`)).json!.data,
      ).toEqual({
        type: "marketplaceSearchDetails",
        id,
      });
      const changed = await call("PATCH", `/v1/marketplaceSearchDetails/${id}`, {
        data: {
          type: "marketplaceSearchDetails",
          id,
          attributes: { catalogUrl: "https://example.com/catalog.xml" },
        },
      });
      expect(changed.json!.data.attributes.catalogUrl).toBe("https://example.com/catalog.xml");
      expect((await call("DELETE", `/v1/marketplaceSearchDetails/${id}`)).status).toBe(204);
      expect((await call("GET", `/v1/apps/${app}/marketplaceSearchDetail`)).status).toBe(404);
    });
  });
}
