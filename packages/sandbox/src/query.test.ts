import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { defaultIncludedLimit } from "./query.js";
import { createSandboxCore } from "./sandbox.js";
import { createSandbox } from "./web.js";
import { newPublicKey, starter } from "./test-support/suite.js";

interface Parameter {
  name: string;
  in: string;
  schema: { type?: string; enum?: string[]; maximum?: number; items?: { enum?: string[] } };
}

/** The excerpt itself, read here rather than through the generated table the sandbox uses. */
const excerpt = parse(
  readFileSync(new URL("../../../spec/app-store-connect.yaml", import.meta.url), "utf8"),
) as {
  paths: Record<string, Record<string, { operationId: string; parameters?: Parameter[] }>>;
};
const getOperations = Object.entries(excerpt.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => method === "get")
    .map(([, operation]) => ({ path, ...operation })),
);

const start = starter(async () => {
  const sandbox = await createSandbox({
    notifications: { fetch: async () => new Response(null, { status: 200 }) },
  });
  return { sandbox, send: sandbox.fetch, close: () => sandbox.flush() };
});

const appId = "6476788026";

/** A sandbox with something behind every GET: a package with two versions, deltas, a webhook. */
async function world() {
  const opened = await start();
  const { sandbox, call } = opened;
  const created = await call("POST", "/v1/alternativeDistributionPackages", {
    data: {
      type: "alternativeDistributionPackages",
      relationships: {
        appStoreVersion: { data: { type: "appStoreVersions", id: `${appId}-1.0` } },
      },
    },
  });
  const packageId: string = created.json!.data.id;
  const versionId = await sandbox.publishPackageVersion(packageId, "2.0");
  for (let count = 0; count < 3; count++) await sandbox.addDelta(versionId);
  await call("POST", "/v1/alternativeDistributionKeys", {
    data: {
      type: "alternativeDistributionKeys",
      attributes: { publicKey: newPublicKey() },
      relationships: { app: { data: { type: "apps", id: appId } } },
    },
  });
  await call("POST", "/v1/alternativeDistributionDomains", {
    data: {
      type: "alternativeDistributionDomains",
      attributes: { domain: "market.example", referenceName: "Market" },
    },
  });
  const webhook = await call("POST", "/v1/webhooks", {
    data: {
      type: "webhooks",
      attributes: {
        name: "hook",
        secret: "a-secret-of-the-test",
        eventTypes: ["ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED"],
        url: "http://127.0.0.1:9/hook",
        enabled: true,
      },
      relationships: { app: { data: { type: "apps", id: appId } } },
    },
  });
  const webhookId: string = webhook.json!.data.id;
  await sandbox.publishPackageVersion(packageId, "3.0");
  await sandbox.notificationsSettled();
  await call("POST", "/v1/marketplaceWebhooks", {
    data: {
      type: "marketplaceWebhooks",
      attributes: { endpointUrl: "http://127.0.0.1:9/market", secret: "another-test-secret" },
    },
  });
  await call("POST", "/v1/marketplaceSearchDetails", {
    data: {
      type: "marketplaceSearchDetails",
      attributes: { catalogUrl: "https://market.example/catalog" },
      relationships: { app: { data: { type: "apps", id: appId } } },
    },
  });
  const ids: Record<string, string> = {
    alternativeDistributionPackages: packageId,
    alternativeDistributionPackageVersions: versionId,
    appStoreVersions: `${appId}-1.0`,
    apps: appId,
    webhooks: webhookId,
  };
  const variants = await call(
    "GET",
    `/v1/alternativeDistributionPackageVersions/${versionId}/variants`,
  );
  const deltas = await call(
    "GET",
    `/v1/alternativeDistributionPackageVersions/${versionId}/deltas`,
  );
  ids.alternativeDistributionPackageVariants = variants.json!.data[0].id;
  ids.alternativeDistributionPackageDeltas = deltas.json!.data[0].id;
  const keys = await call("GET", "/v1/alternativeDistributionKeys");
  ids.alternativeDistributionKeys = keys.json!.data[0].id;
  const domains = await call("GET", "/v1/alternativeDistributionDomains");
  ids.alternativeDistributionDomains = domains.json!.data[0].id;
  /** A concrete path for an excerpt path: `{id}` is the id of the path's first segment's type. */
  const pathOf = (template: string) =>
    template.replace("{id}", ids[template.split("/")[2]!] ?? "missing");
  return { ...opened, ids, pathOf, versionId, packageId, webhookId };
}

/** A value the excerpt allows for a parameter: every listed value, or the maximum. */
function validValue(parameter: Parameter): string {
  const values = parameter.schema.items?.enum ?? parameter.schema.enum;
  if (values) return values.join(",");
  if (parameter.schema.maximum !== undefined) return String(parameter.schema.maximum);
  if (parameter.name === "exists[app]") return "true";
  if (parameter.name.startsWith("filter[createdDate")) return "2026-01-01T00:00:00Z";
  throw new Error(`no valid value known for ${parameter.name}`);
}

describe("the sandbox and the excerpt", () => {
  it("serves every operation of the excerpt, and no route outside it", async () => {
    const declared = Object.entries(excerpt.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => method !== "parameters")
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const { routes } = await createSandboxCore({}, () => "https://api.example.test");
    expect(routes().sort()).toEqual(declared.sort());
  });

  it("answers 200 to every query parameter every GET declares, with a document the excerpt allows", async () => {
    const { call, pathOf } = await world();
    let requests = 0;
    for (const operation of getOperations) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== "query") continue;
        const query = `${encodeURIComponent(parameter.name)}=${encodeURIComponent(validValue(parameter))}`;
        const { status, json } = await call("GET", `${pathOf(operation.path)}?${query}`);
        requests++;
        expect(
          status,
          `${operation.operationId} ${parameter.name}: ${JSON.stringify(json?.errors)}`,
        ).toBe(200);
      }
    }
    expect(requests).toBe(
      getOperations.flatMap((operation) =>
        (operation.parameters ?? []).filter((parameter) => parameter.in === "query"),
      ).length,
    );
  });

  it("refuses, naming the parameter, what an operation does not declare or allow", async () => {
    const { call, pathOf } = await world();
    for (const operation of getOperations) {
      const path = pathOf(operation.path);
      const unknown = await call("GET", `${path}?include=nothing-of-the-kind`);
      expect(unknown.status, operation.operationId).toBe(400);
      expect(unknown.json!.errors[0].source).toEqual({ parameter: "include" });
      for (const parameter of operation.parameters ?? []) {
        if (!(parameter.schema.items?.enum ?? parameter.schema.enum)) continue;
        const { status, json } = await call(
          "GET",
          `${path}?${encodeURIComponent(parameter.name)}=notAField`,
        );
        expect(status, `${operation.operationId} ${parameter.name}`).toBe(400);
        expect(json!.errors[0].detail).toContain("'notAField' is not a valid value");
      }
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema.maximum === undefined) continue;
        const over = await call(
          "GET",
          `${path}?${encodeURIComponent(parameter.name)}=${parameter.schema.maximum + 1}`,
        );
        expect(over.status, `${operation.operationId} ${parameter.name}`).toBe(400);
      }
    }
  });
});

describe("include, fields and limit[…]", () => {
  it("include=variants,deltas adds them once each, limited, with meta.paging", async () => {
    const { call, versionId } = await world();
    const { json } = await call(
      "GET",
      `/v1/alternativeDistributionPackageVersions/${versionId}?include=variants,deltas,alternativeDistributionPackage&limit[deltas]=2`,
    );
    const { variants, deltas } = json!.data.relationships;
    expect(deltas.meta.paging).toEqual({ total: 3, limit: 2 });
    expect(deltas.data).toHaveLength(2);
    expect(variants.meta.paging).toEqual({ total: 2, limit: defaultIncludedLimit });
    expect(variants.data).toHaveLength(2);
    const included = json!.included as Array<{ type: string; id: string }>;
    expect(included.map((resource) => resource.type).sort()).toEqual([
      "alternativeDistributionPackageDeltas",
      "alternativeDistributionPackageDeltas",
      "alternativeDistributionPackageVariants",
      "alternativeDistributionPackageVariants",
      "alternativeDistributionPackages",
    ]);
    expect(new Set(included.map((resource) => resource.id)).size).toBe(5);
    // Not asked for: the linkage is left out, the links stay.
    const plain = await call("GET", `/v1/alternativeDistributionPackageVersions/${versionId}`);
    expect(plain.json!.data.relationships.variants.data).toBeUndefined();
    expect(plain.json!.data.relationships.variants.links.related).toContain("/variants");
    expect(plain.json!.included).toBeUndefined();
  });

  it("include=versions on a package and its App Store version", async () => {
    const { call, packageId } = await world();
    for (const path of [
      `/v1/alternativeDistributionPackages/${packageId}`,
      `/v1/appStoreVersions/${appId}-1.0/alternativeDistributionPackage`,
    ]) {
      const { json } = await call("GET", `${path}?include=versions&limit[versions]=1`);
      expect(json!.data.relationships.versions.meta.paging).toEqual({ total: 3, limit: 1 });
      expect(json!.included).toHaveLength(1);
      expect(json!.included[0].type).toBe("alternativeDistributionPackageVersions");
    }
  });

  it("on a list, include gathers the related resources of the whole page", async () => {
    const { call, packageId } = await world();
    const { json } = await call(
      "GET",
      `/v1/alternativeDistributionPackages/${packageId}/versions?include=alternativeDistributionPackage,variants&fields[alternativeDistributionPackages]=sourceFileChecksum`,
    );
    expect(json!.data).toHaveLength(3);
    const packages = json!.included.filter(
      (resource: { type: string }) => resource.type === "alternativeDistributionPackages",
    );
    expect(packages).toHaveLength(1);
    expect(Object.keys(packages[0].attributes)).toEqual(["sourceFileChecksum"]);
    expect(packages[0].relationships).toEqual({});
    expect(json!.included).toHaveLength(1 + 3 * 2);
  });

  it("fields[type] keeps only the named attributes and relationships, primary and included", async () => {
    const { call, versionId, webhookId } = await world();
    const version = await call(
      "GET",
      `/v1/alternativeDistributionPackageVersions/${versionId}?fields[alternativeDistributionPackageVersions]=version,state&fields[alternativeDistributionPackageVariants]=fileChecksum&include=variants`,
    );
    expect(Object.keys(version.json!.data.attributes).sort()).toEqual(["state", "version"]);
    // The included relationship stays: the included resources hang on its linkage.
    expect(Object.keys(version.json!.data.relationships)).toEqual(["variants"]);
    for (const variant of version.json!.included) {
      expect(Object.keys(variant.attributes)).toEqual(["fileChecksum"]);
    }
    const deliveries = await call(
      "GET",
      `/v1/webhooks/${webhookId}/deliveries?fields[webhookDeliveries]=deliveryState,event&fields[webhookEvents]=eventType&include=event`,
    );
    expect(deliveries.json!.data.length).toBeGreaterThan(0);
    for (const delivery of deliveries.json!.data) {
      expect(Object.keys(delivery.attributes)).toEqual(["deliveryState"]);
      expect(delivery.relationships.event.data.type).toBe("webhookEvents");
    }
    expect(deliveries.json!.included.length).toBeGreaterThan(0);
    for (const event of deliveries.json!.included) {
      expect(event.attributes).toEqual({
        eventType: "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED",
      });
    }
    const webhook = await call("GET", `/v1/webhooks/${webhookId}?fields[webhooks]=name`);
    expect(webhook.json!.data.attributes).toEqual({ name: "hook" });
    expect(webhook.json!.data.relationships).toEqual({});
  });

  it("include=app gives the app's name, bundle ID, SKU and primary locale", async () => {
    const { call, webhookId } = await world();
    for (const path of [`/v1/webhooks/${webhookId}`, `/v1/apps/${appId}/webhooks`]) {
      const { json } = await call(
        "GET",
        `${path}?include=app&fields[apps]=name,bundleId,sku,primaryLocale`,
      );
      expect(json!.included).toEqual([
        {
          type: "apps",
          id: appId,
          attributes: {
            name: `Sandbox App ${appId}`,
            bundleId: `com.example.sandbox.app${appId}`,
            sku: `SANDBOX-${appId}`,
            primaryLocale: "en-US",
          },
          links: { self: `https://api.appstoreconnect.apple.com/v1/apps/${appId}` },
        },
      ]);
    }
    const narrowed = await call("GET", `/v1/webhooks/${webhookId}?include=app&fields[apps]=sku`);
    expect(narrowed.json!.included[0].attributes).toEqual({ sku: `SANDBOX-${appId}` });
  });

  it("refuses a parameter given twice and a limit[…] that is not a whole number", async () => {
    const { call, versionId } = await world();
    const twice = await call(
      "GET",
      `/v1/alternativeDistributionPackageVersions/${versionId}?include=variants&include=deltas`,
    );
    expect(twice.status).toBe(400);
    expect(twice.json!.errors[0].detail).toContain("separated by commas");
    for (const value of ["0", "1.5", "ten", "-1"]) {
      const { status, json } = await call(
        "GET",
        `/v1/alternativeDistributionPackageVersions/${versionId}?limit[variants]=${value}`,
      );
      expect(status).toBe(400);
      expect(json!.errors[0].source).toEqual({ parameter: "limit[variants]" });
    }
  });
});
