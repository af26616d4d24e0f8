import { createInstallTokenSigner, verifyInstallVerificationToken } from "@asc-kit/install-token";
import { generateKeyPair } from "@asc-kit/pem";
import { beforeAll, describe, expect, it } from "vitest";
import { createDistributionHandler, marketplaceKitConfiguration } from "./index.js";
import type { Authentication, DistributionStore, ServedApp } from "./index.js";
import { freshId, versionRecord } from "./test-support/contract.js";
import { forEachAdapter } from "./test-support/databases.js";

const origin = "https://apps.example.com";
const configuration = marketplaceKitConfiguration({
  restore: `${origin}/marketplace-kit/restore`,
  updatesUrl: `${origin}/marketplace-kit/updates`,
  pollingInterval: 48,
});
const keyId = "0e3f7c2a-4b1d-4f5e-9a8b-7c6d5e4f3a2b";
const marketplace = "1234567890";

let keys: { privateKeyPem: string; publicKeyPem: string };
beforeAll(async () => {
  keys = await generateKeyPair();
});

/** A handler on `store`, where the bearer token is the account and "bad" is refused. */
function handlerOn(
  store: DistributionStore,
  extra: { entitled?: (a: string, i: string) => boolean } = {},
) {
  const errors: unknown[] = [];
  const authenticate = (request: Request): Authentication => {
    const header = request.headers.get("authorization");
    if (header === null) return "missing";
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    return !token || token === "bad" ? "invalid" : { account: token };
  };
  const handle = createDistributionHandler({
    store,
    configuration,
    signer: createInstallTokenSigner({
      privateKey: keys.privateKeyPem,
      keyId,
      appleItemId: marketplace,
      lifetimeSeconds: 1200,
    }),
    authenticate,
    onError: (error) => errors.push(error),
    ...extra,
  });
  const post = async (
    kind: "restore" | "updates",
    body: unknown,
    account: string | null = "alice",
  ) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (account !== null) headers.authorization = `Bearer ${account}`;
    const response = await handle(
      new Request(`${origin}/marketplace-kit/${kind}`, {
        method: "POST",
        headers,
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as Record<string, any>,
    };
  };
  return { handle, post, errors };
}

const iPhone = (apps: Array<{ appleItemId: string; appleVersionId?: string }>) => ({
  apps,
  platform: "iOS",
  osVersion: "18.2",
});

async function verified(item: ServedApp) {
  return verifyInstallVerificationToken(item.installVerificationToken, keys.publicKeyPem, {
    keyId,
    appleItemId: marketplace,
    installId: item.appleItemId,
    versionId: item.appleVersionId,
    maxLifetimeSeconds: 1200,
  });
}

describe("the configuration", () => {
  it("is served as JSON at /.well-known/marketplace-kit, GET only, never a redirect", async () => {
    const store = {} as DistributionStore;
    const { handle } = handlerOn(store);
    const response = await handle(new Request(`${origin}/.well-known/marketplace-kit`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({
      restore: `${origin}/marketplace-kit/restore`,
      updates: { url: `${origin}/marketplace-kit/updates`, pollingInterval: 48 },
    });
    const post = await handle(
      new Request(`${origin}/.well-known/marketplace-kit`, { method: "POST" }),
    );
    expect(post.status).toBe(405);
    expect((await handle(new Request(`${origin}/elsewhere`))).status).toBe(404);
  });
});

forEachAdapter((adapter) => {
  describe("restore", () => {
    it("answers the newest version that runs on the device, with a fresh verified token", async () => {
      const app = freshId();
      const old = versionRecord({
        appleItemId: app,
        bundleVersion: "1",
        shortVersionString: "1.0",
      });
      const newer = versionRecord({
        appleItemId: app,
        bundleVersion: "3",
        shortVersionString: "1.2",
      });
      const tooNew = versionRecord({
        appleItemId: app,
        bundleVersion: "4",
        minimumSystemVersions: { iOS: "19.0" },
      });
      for (const record of [newer, old, tooNew]) await adapter.store().registerVersion(record);
      const { post } = handlerOn(adapter.store());
      const answer = await post(
        "restore",
        iPhone([{ appleItemId: app, appleVersionId: old.appleVersionId }]),
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.json.failures).toEqual([]);
      const [item] = answer.json.restores as ServedApp[];
      expect(item).toMatchObject({
        appleItemId: app,
        appleVersionId: newer.appleVersionId,
        alternativeDistributionPackage: newer.packageUrl,
      });
      const claims = await verified(item!);
      expect(claims).toMatchObject({ bid: newer.bundleId, dtype: "download", iss: marketplace });
      expect(claims.exp - claims.iat).toBe(1200);
      const again = (await post("restore", iPhone([{ appleItemId: app }]))).json.restores[0];
      const second = await verified(again);
      expect(second.dtype).toBe("redownload");
      expect(second.nonce).not.toBe(claims.nonce);
      // Another account's first install is a download of its own.
      const bob = (await post("restore", iPhone([{ appleItemId: app }]), "bob")).json.restores[0];
      expect((await verified(bob)).dtype).toBe("download");
    });

    it("answers unknown, withdrawn, unentitled and incompatible apps as 404 failures", async () => {
      const [served, withdrawn, versionGone, unentitled, ipadOnly] = [0, 0, 0, 0, 0].map(() =>
        freshId(),
      );
      for (const app of [served, withdrawn, versionGone, unentitled]) {
        await adapter.store().registerVersion(versionRecord({ appleItemId: app! }));
      }
      const ipad = versionRecord({
        appleItemId: ipadOnly!,
        platforms: ["iPadOS"],
        minimumSystemVersions: {},
      });
      await adapter.store().registerVersion(ipad);
      await adapter.store().setAvailability(false, withdrawn!);
      const [only] = await adapter.store().versionsOf([versionGone!]);
      await adapter.store().setAvailability(false, versionGone!, only!.appleVersionId);
      const unknown = freshId();
      const { post } = handlerOn(adapter.store(), {
        entitled: (_account, app) => app !== unentitled,
      });
      const answer = await post(
        "restore",
        iPhone(
          [served, withdrawn, versionGone, unentitled, ipadOnly, unknown].map((appleItemId) => ({
            appleItemId: appleItemId!,
          })),
        ),
      );
      expect(answer.json.restores.map((item: ServedApp) => item.appleItemId)).toEqual([served]);
      expect(
        answer.json.failures.map(
          (failure: { appleItemId: string; failure: { code: number; description: string } }) => [
            failure.appleItemId,
            failure.failure.code,
            failure.failure.description,
          ],
        ),
      ).toEqual([
        [withdrawn, 404, "App unavailable."],
        [versionGone, 404, "App unavailable."],
        [unentitled, 404, "App unavailable for this account."],
        [ipadOnly, 404, "App unavailable for iOS 18.2."],
        [unknown, 404, "App unknown."],
      ]);
      // An iPad takes the iPad version, and an iPhone version when there is no iPad one.
      const onIpad = await post("restore", {
        ...iPhone([{ appleItemId: ipadOnly! }, { appleItemId: served! }]),
        platform: "iPadOS",
      });
      expect(onIpad.json.restores).toHaveLength(2);
    });

    it("hands out exactly one download to 500 concurrent restores of one app for one account", async () => {
      const app = freshId();
      await adapter.store().registerVersion(versionRecord({ appleItemId: app }));
      const { post } = handlerOn(adapter.store());
      const answers = await Promise.all(
        Array.from({ length: 500 }, () => post("restore", iPhone([{ appleItemId: app }]), "erin")),
      );
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      const types = await Promise.all(
        answers.map(async (answer) => (await verified(answer.json.restores[0])).dtype),
      );
      expect(types.filter((type) => type === "download")).toHaveLength(1);
    });
  });

  describe("updates", () => {
    it("lists only apps with a newer version than the device holds, with its version strings", async () => {
      const [app, current] = [freshId(), freshId()];
      const v1 = versionRecord({ appleItemId: app, bundleVersion: "1", shortVersionString: "1.0" });
      const v2 = versionRecord({ appleItemId: app, bundleVersion: "2", shortVersionString: "1.1" });
      const only = versionRecord({ appleItemId: current });
      for (const record of [v1, v2, only]) await adapter.store().registerVersion(record);
      const { post } = handlerOn(adapter.store());
      const answer = await post(
        "updates",
        iPhone([
          { appleItemId: app, appleVersionId: v1.appleVersionId },
          { appleItemId: current, appleVersionId: only.appleVersionId },
        ]),
      );
      expect(answer.json.failures).toEqual([]);
      expect(answer.json.updates).toEqual([
        expect.objectContaining({
          appleItemId: app,
          appleVersionId: v2.appleVersionId,
          bundleVersion: "2",
          shortVersionString: "1.1",
        }),
      ]);
      const none = await post(
        "updates",
        iPhone([{ appleItemId: app, appleVersionId: v2.appleVersionId }]),
      );
      expect(none.json).toEqual({ updates: [], failures: [] });
    });
  });

  describe("bad input", () => {
    it("answers every bad request with a 4xx and a JSON reason, never a 500", async () => {
      const { handle, post, errors } = handlerOn(adapter.store());
      const app = freshId();
      const cases: Array<[unknown, number, string]> = [
        ["not json", 400, "BODY_NOT_JSON"],
        ["[1,2]", 400, "BODY_INVALID"],
        ["null", 400, "BODY_INVALID"],
        ["[".repeat(30_000) + "]".repeat(30_000), 400, "BODY_INVALID"],
        [{ ...iPhone([{ appleItemId: app }]), platform: "watchOS" }, 400, "PLATFORM_UNKNOWN"],
        [{ ...iPhone([{ appleItemId: app }]), platform: undefined }, 400, "PLATFORM_UNKNOWN"],
        [{ ...iPhone([{ appleItemId: app }]), osVersion: "eighteen" }, 400, "OS_VERSION_INVALID"],
        [iPhone([]), 400, "APPS_INVALID"],
        [{ ...iPhone([]), apps: "all" }, 400, "APPS_INVALID"],
        [iPhone([{ appleItemId: 42 as unknown as string }]), 400, "APPLE_ITEM_ID_INVALID"],
        [iPhone([{ appleItemId: "com.example.app" }]), 400, "APPLE_ITEM_ID_INVALID"],
        [iPhone([{ appleItemId: app, appleVersionId: "1.0" }]), 400, "APPLE_VERSION_ID_INVALID"],
        [
          iPhone(Array.from({ length: 3_000 }, (_, index) => ({ appleItemId: String(index) }))),
          413,
          "BODY_TOO_LARGE",
        ],
        [
          iPhone(Array.from({ length: 201 }, (_, index) => ({ appleItemId: String(index) }))),
          400,
          "TOO_MANY_APPS",
        ],
        ["x".repeat(70_000), 413, "BODY_TOO_LARGE"],
      ];
      for (const [body, status, error] of cases) {
        const answer = await post("restore", body);
        expect([answer.status, answer.json.error]).toEqual([status, error]);
      }
      expect((await post("restore", iPhone([{ appleItemId: app }]), null)).status).toBe(401);
      expect((await post("restore", iPhone([{ appleItemId: app }]), "bad")).status).toBe(403);
      const twoTokens = await handle(
        new Request(`${origin}/marketplace-kit/restore`, {
          method: "POST",
          headers: [
            ["authorization", "Bearer alice"],
            ["authorization", "Bearer bob"],
          ],
          body: JSON.stringify(iPhone([{ appleItemId: app }])),
        }),
      );
      expect(twoTokens.status).toBe(403);
      const get = await handle(new Request(`${origin}/marketplace-kit/restore`));
      expect(get.status).toBe(405);
      expect(errors).toEqual([]);
    });
  });

  if (adapter === undefined) return;
  describe("a store that goes down", () => {
    it.runIf(true)(
      "answers 503 with Retry-After, records nothing half, and recovers",
      async (context) => {
        const server = adapter.postgres;
        if (!server) return context.skip();
        const app = freshId();
        await adapter.store().registerVersion(versionRecord({ appleItemId: app }));
        const { post, errors } = handlerOn(adapter.store());
        await server.stop();
        const down = await post("restore", iPhone([{ appleItemId: app }]), "frank");
        expect(down.status).toBe(503);
        expect(down.headers.get("retry-after")).toBe("5");
        expect(errors).toHaveLength(1);
        await server.start();
        let recovered: Awaited<ReturnType<typeof post>> | undefined;
        await expect
          .poll(
            async () =>
              (recovered = await post("restore", iPhone([{ appleItemId: app }]), "frank")).status,
            { timeout: 15_000, interval: 200 },
          )
          .toBe(200);
        // The answer that failed recorded nothing: the first that succeeded is the download.
        expect((await verified(recovered!.json.restores[0])).dtype).toBe("download");
      },
    );
  });
});
