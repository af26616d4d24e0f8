import { describe, expect, it } from "vitest";
import { recordingClient } from "./test-support/recording.js";
import {
  createMarketplaceSearchDetail,
  createMarketplaceWebhook,
  getMarketplaceWebhook,
  removeMarketplaceWebhook,
  updateMarketplaceWebhook,
  createWebhook,
  listAppWebhooks,
  pingWebhook,
  redeliverWebhookDelivery,
  removeMarketplaceSearchDetail,
  removeWebhook,
  updateMarketplaceSearchDetail,
  updateWebhook,
} from "./index.js";

const base = "https://api.example.test";
const secret = "a-long-webhook-secret";
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const webhook = { data: { type: "webhooks", id: "w1" }, links: { self: `${base}/v1/webhooks/w1` } };

describe("webhooks", () => {
  it("creates one for the alternative distribution events, and never repeats the secret", async () => {
    const { client, sent } = recordingClient(async () => json(201, webhook));
    const created = await createWebhook(client, {
      appId: "6476788026",
      name: "Marketplace",
      url: "https://marketplace.example/notifications",
      secret,
    });
    expect(created.data?.data.id).toBe("w1");
    expect(sent[0]).toMatchObject({
      line: "POST /v1/webhooks",
      body: {
        data: {
          attributes: {
            enabled: true,
            eventTypes: [
              "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED",
              "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
              "ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED",
            ],
          },
          relationships: { app: { data: { type: "apps", id: "6476788026" } } },
        },
      },
    });
    const conflict = recordingClient(async () =>
      json(409, {
        errors: [{ status: "409", code: "ENTITY_ERROR", title: "Conflict", detail: "Exists." }],
      }),
    );
    const refused = await createWebhook(conflict.client, {
      appId: "6476788026",
      name: "Marketplace",
      url: "https://marketplace.example/notifications",
      secret,
    });
    expect(JSON.stringify(refused.error?.toJSON())).not.toContain(secret);
    expect(refused.error?.message).not.toContain(secret);
  });

  it("refuses an http URL or a short secret locally, without repeating the secret", async () => {
    const { client, sent } = recordingClient(async () => json(201, webhook));
    const input = { appId: "1", name: "M", url: "http://marketplace.example/", secret };
    await expect(createWebhook(client, input)).rejects.toThrow(/absolute https URL/);
    const short = createWebhook(client, { ...input, url: "https://m.example/", secret: "short" });
    await expect(short).rejects.toThrow(TypeError);
    await expect(short).rejects.not.toThrow(/short/);
    expect(sent).toEqual([]);
  });

  it("lists an app's webhooks, pings one, and removes one, reading back after a lost answer", async () => {
    let deletes = 0;
    const { client, sent } = recordingClient(async (request) => {
      if (request.method === "DELETE") {
        deletes++;
        throw new TypeError("fetch failed");
      }
      if (request.url.includes("/webhooks/w1")) {
        return json(404, {
          errors: [{ status: "404", code: "NOT_FOUND", title: "Gone", detail: "Gone." }],
        });
      }
      if (request.method === "POST")
        return json(201, { data: { type: "webhookPings", id: "p1" }, links: { self: base } });
      return json(200, { data: [webhook.data], links: { self: request.url } });
    });
    expect((await listAppWebhooks(client, "6476788026")).data?.map((item) => item.id)).toEqual([
      "w1",
    ]);
    expect((await pingWebhook(client, "w1")).data?.data.id).toBe("p1");
    expect((await removeWebhook(client, "w1")).error).toBeUndefined();
    expect(deletes).toBe(1);
    expect(sent.map((entry) => entry.line)).toEqual([
      "GET /v1/apps/6476788026/webhooks?limit=200",
      "POST /v1/webhookPings",
      "DELETE /v1/webhooks/w1",
      "GET /v1/webhooks/w1",
    ]);
  });
});

describe("marketplace search details", () => {
  it("registers a catalog URL for an app", async () => {
    const { client, sent } = recordingClient(async () =>
      json(201, { data: { type: "marketplaceSearchDetails", id: "s1" }, links: { self: base } }),
    );
    const created = await createMarketplaceSearchDetail(client, {
      appId: "6476788026",
      catalogUrl: "https://marketplace.example/sitemap.xml",
    });
    expect(created.data?.data.id).toBe("s1");
    expect(sent[0]?.body).toMatchObject({
      data: { attributes: { catalogUrl: "https://marketplace.example/sitemap.xml" } },
    });
  });
});

describe("changes", () => {
  it("update a webhook with only what is given, redeliver, and change or clear a catalog", async () => {
    const { client, sent } = recordingClient(async (request) =>
      request.method === "DELETE"
        ? new Response(null, { status: 204 })
        : json(200, { data: { type: "webhooks", id: "w1" }, links: { self: base } }),
    );
    await updateWebhook(client, "w1", { enabled: false });
    await redeliverWebhookDelivery(client, "d1");
    await updateMarketplaceSearchDetail(client, "s1", null);
    expect((await removeMarketplaceSearchDetail(client, "s1")).data).toBeNull();
    expect(sent.map((entry) => [entry.line, entry.body])).toEqual([
      [
        "PATCH /v1/webhooks/w1",
        { data: { type: "webhooks", id: "w1", attributes: { enabled: false } } },
      ],
      [
        "POST /v1/webhookDeliveries",
        {
          data: {
            type: "webhookDeliveries",
            relationships: { template: { data: { type: "webhookDeliveries", id: "d1" } } },
          },
        },
      ],
      [
        "PATCH /v1/marketplaceSearchDetails/s1",
        { data: { type: "marketplaceSearchDetails", id: "s1", attributes: { catalogUrl: null } } },
      ],
      ["DELETE /v1/marketplaceSearchDetails/s1", undefined],
    ]);
    await expect(updateWebhook(client, "w1", {})).rejects.toThrow(TypeError);
    const short = updateWebhook(client, "w1", { secret: "tiny-7c" });
    await expect(short).rejects.toThrow(TypeError);
    await expect(short).rejects.not.toThrow(/tiny-7c/);
  });
});

describe("the marketplace webhook (deprecated)", () => {
  const endpoint = (id: string) => ({
    type: "marketplaceWebhooks",
    id,
    attributes: { endpointUrl: "https://marketplace.example/n" },
  });

  it("is read (or undefined), created, changed, and never repeats the secret", async () => {
    let existing: unknown[] = [];
    const { client, sent } = recordingClient(async (request) => {
      if (request.method === "GET") return json(200, { data: existing, links: { self: base } });
      // Apple's examples show the answer's data as a list of one; its schema, as one.
      return json(request.method === "POST" ? 201 : 200, {
        data: request.method === "POST" ? endpoint("m1") : [endpoint("m1")],
        links: { self: base },
      });
    });
    expect((await getMarketplaceWebhook(client)).data).toBeUndefined();
    const created = await createMarketplaceWebhook(client, {
      endpointUrl: "https://marketplace.example/n",
      secret,
    });
    expect(created.data?.id).toBe("m1");
    existing = [endpoint("m1")];
    expect((await getMarketplaceWebhook(client)).data?.id).toBe("m1");
    const updated = await updateMarketplaceWebhook(client, "m1", {
      endpointUrl: "http://127.0.0.1:8080/n",
    });
    expect(updated.data?.id).toBe("m1");
    expect(sent.map((entry) => entry.line)).toEqual([
      "GET /v1/marketplaceWebhooks?limit=1",
      "POST /v1/marketplaceWebhooks",
      "GET /v1/marketplaceWebhooks?limit=1",
      "PATCH /v1/marketplaceWebhooks/m1",
    ]);
    expect(sent[3]!.body).toEqual({
      data: {
        type: "marketplaceWebhooks",
        id: "m1",
        attributes: { endpointUrl: "http://127.0.0.1:8080/n" },
      },
    });
    const plain = createMarketplaceWebhook(client, {
      endpointUrl: "http://marketplace.example/n",
      secret,
    });
    await expect(plain).rejects.toThrow(/https URL/);
    await expect(plain).rejects.not.toThrow(secret);
    await expect(updateMarketplaceWebhook(client, "m1", {})).rejects.toThrow(TypeError);
  });

  it("is removed, an uncertain outcome confirmed by reading the account's webhook back", async () => {
    let deleted = false;
    const { client } = recordingClient(async (request) => {
      if (request.method === "DELETE") {
        deleted = true;
        return json(500, { errors: [{ status: "500", code: "UNEXPECTED_ERROR", title: "x" }] });
      }
      return json(200, { data: deleted ? [] : [endpoint("m1")], links: { self: base } });
    });
    expect((await removeMarketplaceWebhook(client, "m1")).data).toBeNull();
    deleted = false;
    const { client: stubborn } = recordingClient(async (request) =>
      request.method === "DELETE"
        ? json(500, { errors: [{ status: "500", code: "UNEXPECTED_ERROR", title: "x" }] })
        : json(200, { data: [endpoint("m1")], links: { self: base } }),
    );
    expect((await removeMarketplaceWebhook(stubborn, "m1")).error?.status).toBe(500);
  });
});
