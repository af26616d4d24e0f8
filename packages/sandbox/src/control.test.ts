import {
  alternativeDistributionEventTypes,
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  createTokenProvider,
  createWebhook,
  redeliverFailedDeliveries,
} from "@asc-kit/core";
import { describe, expect, it } from "vitest";
import { createSandbox } from "./web.js";

async function world() {
  const sent: string[] = [];
  const sandbox = await createSandbox({
    notifications: {
      fetch: async (_url, init) => {
        sent.push(String(init.body));
        return new Response(null, { status: 200 });
      },
    },
  });
  const tokens = createTokenProvider(sandbox.credentials);
  // Told of every alternative distribution event, so that a test sees what each control sends.
  await createWebhook(
    createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch }),
    {
      appId: "6476788026",
      name: "listening",
      url: "http://127.0.0.1:9/hook",
      secret: "a-secret-of-the-test",
      eventTypes: [...alternativeDistributionEventTypes],
      enabled: true,
    },
  );
  const call = async (method: string, path: string, body?: unknown, token?: string | null) => {
    const authorization =
      token === null ? {} : { authorization: `Bearer ${token ?? (await tokens.getToken())}` };
    const response = await sandbox.fetch(`${sandbox.url}${path}`, {
      method,
      headers: { ...authorization, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  const created = await call("POST", "/v1/alternativeDistributionPackages", {
    data: {
      type: "alternativeDistributionPackages",
      relationships: {
        appStoreVersion: { data: { type: "appStoreVersions", id: "6476788026-1.0" } },
      },
    },
  });
  return { sandbox, call, sent, packageId: created.json.data.id as string };
}

describe("the test controls over HTTP", () => {
  it("publish a version, add a delta, and change availability, as the JavaScript controls do", async () => {
    const { sandbox, call, sent, packageId } = await world();
    const published = await call("POST", `/sandbox/packages/${packageId}/versions`, {
      version: "2.0",
    });
    expect(published.status).toBe(201);
    const versionId: string = published.json.versionId;
    const version = await call("GET", `/v1/alternativeDistributionPackageVersions/${versionId}`);
    expect(version.json.data.attributes).toMatchObject({ version: "2.0", state: "COMPLETED" });
    const delta = await call("POST", `/sandbox/packageVersions/${versionId}/deltas`);
    expect(delta.status).toBe(201);
    const deltas = await call(
      "GET",
      `/v1/alternativeDistributionPackageVersions/${versionId}/deltas`,
    );
    expect(deltas.json.data.map((item: { id: string }) => item.id)).toEqual([delta.json.deltaId]);
    for (const [path, body] of [
      [`/sandbox/packages/${packageId}/availability`, { available: false }],
      ["/sandbox/apps/6476788026/territories", { territories: ["DEU"], available: true }],
      ["/sandbox/apps/6476788026/withdrawal", {}],
    ] as const) {
      expect((await call("POST", path, body)).status, path).toBe(202);
    }
    await sandbox.notificationsSettled();
    // The package's first version, the published one, availability, territories, withdrawal.
    expect(sent.map((body) => JSON.parse(body).data.type)).toEqual([
      "alternativeDistributionPackageVersionCreated",
      "alternativeDistributionPackageVersionCreated",
      "alternativeDistributionPackageAvailableUpdated",
      "alternativeDistributionTerritoryAvailabilityUpdated",
      "alternativeDistributionPackageAvailableUpdated",
    ]);
  });

  it("refuse what is not theirs to do: no token, an unknown id, a bad body, another method", async () => {
    const { sandbox, call, packageId } = await world();
    expect((await call("POST", `/sandbox/packages/${packageId}/versions`, {}, null)).status).toBe(
      401,
    );
    const unknown = await call("POST", "/sandbox/packages/nope/versions", {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].detail).toBe("There is no package nope in this sandbox.");
    expect((await call("POST", "/sandbox/apps/999/withdrawal")).status).toBe(404);
    const badFlag = await call("POST", `/sandbox/packages/${packageId}/availability`, {
      available: "no",
    });
    expect(badFlag.status).toBe(422);
    const badCodes = await call("POST", "/sandbox/apps/6476788026/territories", {
      territories: ["de"],
      available: true,
    });
    expect(badCodes.status).toBe(422);
    expect((await call("POST", "/sandbox/apps/6476788026/territories", [])).status).toBe(422);
    expect((await call("GET", `/sandbox/packages/${packageId}/versions`)).status).toBe(405);
    expect((await call("POST", "/sandbox/nothing/1/here")).status).toBe(404);
    const preflight = await sandbox.fetch(`${sandbox.url}/sandbox/apps/1/withdrawal`, {
      method: "OPTIONS",
    });
    expect(preflight.headers.get("allow")).toBe("POST");
  });
});

describe("redeliverFailedDeliveries, against the sandbox", () => {
  it("sends again what never arrived, once an event, and nothing that did", async () => {
    let receiverUp = false;
    const received: string[] = [];
    const sandbox = await createSandbox({
      notifications: {
        fetch: async (_url, init) => {
          if (!receiverUp) throw new TypeError("fetch failed");
          received.push(String(init.body));
          return new Response(null, { status: 200 });
        },
      },
    });
    const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
    const webhook = await createWebhook(client, {
      appId: "6476788026",
      name: "down for a while",
      url: "http://127.0.0.1:9/hook",
      secret: "a-secret-of-the-test",
      eventTypes: ["ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED"],
      enabled: true,
    });
    const webhookId = webhook.data!.data.id;
    const created = await createAlternativeDistributionPackage(client, {
      appStoreVersionId: "6476788026-1.0",
    });
    await sandbox.publishPackageVersion(created.data!.data.id);
    await sandbox.notificationsSettled();
    expect(received).toHaveLength(0);

    receiverUp = true;
    const first = await redeliverFailedDeliveries(client, webhookId);
    await sandbox.notificationsSettled();
    expect(first.data).toHaveLength(2);
    expect(first.data!.every((entry) => entry.deliveryId && !entry.error)).toBe(true);
    expect(received).toHaveLength(2);
    // Both events have a delivery that succeeded now: nothing is sent a second time.
    expect((await redeliverFailedDeliveries(client, webhookId)).data).toEqual([]);
  });
});
