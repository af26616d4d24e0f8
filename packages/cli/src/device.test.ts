import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDistributionHandler, marketplaceKitConfiguration } from "@asc-kit/distribution";
import type { DistributionStore } from "@asc-kit/distribution";
import { findLayouts, layoutFileHandler, registerLayouts } from "@asc-kit/distribution/node";
import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import { generateKeyPair } from "@asc-kit/pem";
import { simulateInstall } from "@asc-kit/sandbox/web";
import type { DeviceOptions, DeviceStep } from "@asc-kit/sandbox/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app, distributor, keyId, layoutsOnDisk } from "./test-support/layouts.js";

const origin = "https://apps.example.com";
type Handler = (request: Request) => Promise<Response>;
/** A change to the server's answers that breaks one rule a device checks. */
type Breaker = (request: Request, next: Handler) => Promise<Response>;

let store: DistributionStore;
let serveFor: (breaker?: Breaker) => Handler;
let publicKey: string;
let privateKey: string;

beforeAll(async () => {
  const layouts = await layoutsOnDisk();
  publicKey = layouts.keys.publicKeyPem;
  privateKey = layouts.keys.privateKeyPem;
  store = await openEmbeddedStore(await mkdtemp(join(tmpdir(), "asc-kit-device-")));
  const { layouts: found } = await findLayouts(layouts.root, `${origin}/`);
  await registerLayouts(store, found);
  const files = layoutFileHandler(found);
  const distribution = createDistributionHandler({
    store,
    configuration: marketplaceKitConfiguration({
      restore: `${origin}/marketplace-kit/restore`,
      updatesUrl: `${origin}/marketplace-kit/updates`,
    }),
    signer: createInstallTokenSigner({
      privateKey: layouts.keys.privateKeyPem,
      keyId,
      appleItemId: distributor,
    }),
    authenticate: (request) =>
      request.headers.get("authorization") ? { account: "alice" } : "missing",
  });
  const good: Handler = async (request) => (await files(request)) ?? distribution(request);
  serveFor = (breaker) => (breaker ? (request) => breaker(request, good) : good);
}, 60_000);
afterAll(() => store?.close());

function install(handler: Handler, extra: Partial<DeviceOptions> = {}) {
  return simulateInstall({
    origin,
    appleItemId: app,
    token: "a token",
    publicKey,
    keyId,
    issuer: distributor,
    fetch: (input, init) => handler(new Request(input, init)),
    ...extra,
  });
}

/** The server's JSON answer to a restore, changed by `change`. */
const restoreChanged =
  (change: (item: Record<string, any>) => Promise<void> | void): Breaker =>
  async (request, next) => {
    const answer = await next(request);
    if (!request.url.endsWith("/restore")) return answer;
    const body = (await answer.json()) as { restores: Array<Record<string, any>> };
    for (const item of body.restores) await change(item);
    return Response.json(body);
  };

const otherKey = generateKeyPair();

const brokenRules: Array<[string, DeviceStep["step"], Breaker, Partial<DeviceOptions>?]> = [
  [
    "redirects its configuration",
    "configuration",
    async (request, next) =>
      request.url.includes("/.well-known/")
        ? Response.redirect(`${origin}/elsewhere`, 302)
        : next(request),
  ],
  [
    "polls more often than every 24 hours",
    "configuration",
    async (request, next) => {
      const answer = await next(request);
      if (!request.url.includes("/.well-known/")) return answer;
      const body = (await answer.json()) as { updates: { pollingInterval: number } };
      body.updates.pollingInterval = 12;
      return Response.json(body);
    },
  ],
  [
    "is plain http off loopback",
    "configuration",
    (request, next) => next(request),
    { origin: "http://apps.example.com" },
  ],
  [
    "refuses the account",
    "sign-in",
    async (request, next) =>
      request.url.endsWith("/restore") ? new Response(null, { status: 401 }) : next(request),
  ],
  [
    "reports the app unavailable",
    "restore",
    async (request, next) =>
      request.url.endsWith("/restore")
        ? Response.json({
            restores: [],
            failures: [
              { appleItemId: app, failure: { code: 404, description: "App unavailable." } },
            ],
          })
        : next(request),
  ],
  [
    "signs with another key",
    "token",
    restoreChanged(async (item) => {
      const signer = createInstallTokenSigner({
        privateKey: (await otherKey).privateKeyPem,
        keyId,
        appleItemId: distributor,
      });
      item.installVerificationToken = await signer.sign({
        bundleId: `com.example.app${app}`,
        downloadType: "download",
      });
    }),
  ],
  [
    "signs for another distributor",
    "token",
    restoreChanged(async (item) => {
      const signer = createInstallTokenSigner({ privateKey, keyId, appleItemId: "999" });
      item.installVerificationToken = await signer.sign({
        bundleId: `com.example.app${app}`,
        downloadType: "download",
        installId: app,
        versionId: String(item.appleVersionId),
      });
    }),
  ],
  [
    "puts the package on another host",
    "package-host",
    restoreChanged((item) => {
      item.alternativeDistributionPackage = String(item.alternativeDistributionPackage).replace(
        origin,
        "https://cdn.other.example",
      );
    }),
  ],
  [
    "serves another version's manifest",
    "manifest",
    async (request, next) => {
      const answer = await next(request);
      if (!request.url.endsWith("/manifest.json")) return answer;
      const manifest = (await answer.json()) as Record<string, unknown>;
      return Response.json({ ...manifest, appleVersionId: "2999999999" });
    },
  ],
  [
    "lacks the signature",
    "signature",
    async (request, next) =>
      request.url.endsWith("/signature") ? new Response(null, { status: 404 }) : next(request),
  ],
  [
    "lacks the variant",
    "variant",
    async (request, next) =>
      request.url.endsWith(".ipa") ? new Response(null, { status: 404 }) : next(request),
  ],
  [
    "sends a corrupt chunk",
    "variant",
    async (request, next) => {
      const answer = await next(request);
      if (!request.url.endsWith(".ipa")) return answer;
      const bytes = new Uint8Array(await answer.arrayBuffer());
      bytes[5_000] = bytes[5_000]! ^ 0xff;
      return new Response(bytes);
    },
  ],
];

describe("the simulated device", () => {
  it("installs from a server that keeps every rule", async () => {
    const result = await install(serveFor());
    expect(result).toMatchObject({ ok: true, installed: { appleItemId: app, bytes: 20_000 } });
    expect(result.steps.every((step) => step.ok)).toBe(true);
  });

  it.each(brokenRules)(
    "fails, naming the step, against a server that %s",
    async (_rule, step, breaker, extra) => {
      const result = await install(serveFor(breaker), extra);
      expect(result.ok).toBe(false);
      expect(result.failedStep).toBe(step);
      expect(result.steps.at(-1)).toMatchObject({ step, ok: false });
      expect(result.steps.slice(0, -1).every((passed) => passed.ok)).toBe(true);
    },
  );

  it("refuses a token whose nonce it has seen before", async () => {
    let first: Response | undefined;
    const replaying: Breaker = async (request, next) => {
      if (!request.url.endsWith("/restore")) return next(request);
      first ??= await next(request);
      return first.clone();
    };
    const seenNonces = new Set<string>();
    const handler = serveFor(replaying);
    expect((await install(handler, { seenNonces })).ok).toBe(true);
    const replayed = await install(handler, { seenNonces });
    expect(replayed).toMatchObject({ ok: false, failedStep: "token" });
    expect(replayed.steps.at(-1)!.detail).toMatch(/seen before/);
  });
});
