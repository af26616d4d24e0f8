import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInstallTokenSigner, verifyInstallVerificationToken } from "@asc-kit/install-token";
import { nodeListener } from "@asc-kit/notifications/node";
import { generateKeyPair } from "@asc-kit/pem";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountTokens,
  createDistributionHandler,
  createInstallPageHandler,
  createSignInHandler,
  marketplaceKitConfiguration,
} from "./index.js";
import type { DistributionStore } from "./index.js";
import { openEmbeddedStore } from "./pglite.js";
import { versionRecord } from "./test-support/contract.js";

/** Debian's chromium (`.ci/run` installs it), or another on the usual paths. */
const browserPath = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].find((path): path is string => path !== undefined && existsSync(path));
if (!browserPath && !process.env.CI)
  console.warn("Chromium is not installed: the install page's browser test is SKIPPED.");

const app = "6476788026";
const keyId = "0e3f7c2a-4b1d-4f5e-9a8b-7c6d5e4f3a2b";

describe.skipIf(!browserPath && !process.env.CI)("the install page, in Chromium", () => {
  let browser: Browser;
  let server: Server;
  let store: DistributionStore;
  let origin = "";
  let publicKey = "";
  const tokens = accountTokens(new Uint8Array(32).fill(5));

  beforeAll(async () => {
    const keys = await generateKeyPair();
    publicKey = keys.publicKeyPem;
    store = await openEmbeddedStore(await mkdtemp(join(tmpdir(), "asc-kit-page-")));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await store.registerVersion(
      versionRecord({ appleItemId: app, packageUrl: `${origin}/packages/${app}/1/` }),
    );
    const signer = createInstallTokenSigner({
      privateKey: keys.privateKeyPem,
      keyId,
      appleItemId: app,
      lifetimeSeconds: 1200,
    });
    const page = createInstallPageHandler({
      store,
      signer,
      appleItemId: app,
      appName: "Example <App>",
      account: (request) =>
        request.headers.get("cookie")?.includes("session=alice") ? "alice@example.com" : undefined,
    });
    const signIn = createSignInHandler({
      store,
      issuer: origin,
      tokens,
      signIn: () => ({ account: "alice@example.com" }),
    });
    const distribution = createDistributionHandler({
      store,
      configuration: marketplaceKitConfiguration({
        restore: `${origin}/marketplace-kit/restore`,
        updatesUrl: `${origin}/marketplace-kit/updates`,
      }),
      signer,
      authenticate: tokens.authenticate,
    });
    server.on(
      "request",
      nodeListener(
        async (request) =>
          (await page(request)) ?? (await signIn(request)) ?? distribution(request),
      ),
    );
    browser = await chromium.launch({ executablePath: browserPath!, args: ["--no-sandbox"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await store?.close();
  });

  /** Opens the page signed in (or not); collects every marketplace-kit: navigation it makes. */
  async function openPage(signedIn: boolean) {
    const context = await browser.newContext();
    if (signedIn) await context.addCookies([{ name: "session", value: "alice", url: origin }]);
    const tab = await context.newPage();
    const links: string[] = [];
    tab.on("request", (request) => {
      if (request.url().startsWith("marketplace-kit:")) links.push(request.url());
    });
    await tab.goto(`${origin}/install`);
    return { tab, links, context };
  }

  it("navigates to a fresh install link on a press of the button, and never on its own", async () => {
    const { tab, links, context } = await openPage(true);
    try {
      expect(await tab.title()).toBe("Install Example <App>");
      await tab.waitForTimeout(300);
      expect(links).toEqual([]);
      await tab.click("#install");
      await expect.poll(() => links.length).toBe(1);
      const link = new URL(links[0]!);
      expect(`${link.protocol}//${link.host}`).toBe("marketplace-kit://install");
      const params = Object.fromEntries(link.searchParams);
      expect(new URL(params.alternativeDistributionPackage!).host).toBe(new URL(origin).host);
      expect(params.account).toBe("alice@example.com");
      const claims = await verifyInstallVerificationToken(
        params.installVerificationToken!,
        publicKey,
        {
          keyId,
          installId: app,
          bundleId: `com.example.app${app}`,
        },
      );
      expect(claims.dtype).toBe("download");
      // The device exchanges the link's token, then restores with the access token.
      const exchange = () =>
        fetch(`${origin}/oauth/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
            subject_token: params.token!,
            subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
            client_id: "6ef01a168f14431d98a0626cf5c89104",
          }),
        });
      const exchanged = (await (await exchange()).json()) as { access_token: string };
      expect((await exchange()).status).toBe(400);
      const restore = await fetch(`${origin}/marketplace-kit/restore`, {
        method: "POST",
        headers: { authorization: `Bearer ${exchanged.access_token}` },
        body: JSON.stringify({ apps: [{ appleItemId: app }], platform: "iOS", osVersion: "18.2" }),
      });
      const restored = (await restore.json()) as {
        restores: Array<{ installVerificationToken: string }>;
      };
      const again = await verifyInstallVerificationToken(
        restored.restores[0]!.installVerificationToken,
        publicKey,
        { keyId },
      );
      expect(again.dtype).toBe("redownload");
      // A second press makes another link: new tokens, nothing reused.
      await tab.click("#install");
      await expect.poll(() => links.length).toBe(2);
      const second = Object.fromEntries(new URL(links[1]!).searchParams);
      expect(second.token).not.toBe(params.token);
      expect(second.installVerificationToken).not.toBe(params.installVerificationToken);
    } finally {
      await context.close();
    }
  });

  it("says so instead of navigating when nobody is signed in, and refuses other sites", async () => {
    const { tab, links, context } = await openPage(false);
    try {
      await tab.click("#install");
      await expect.poll(() => tab.textContent("#status")).toBe("Sign in to install.");
      expect(links).toEqual([]);
      const forged = await fetch(`${origin}/install`, {
        method: "POST",
        headers: { origin: "https://evil.example", cookie: "session=alice" },
      });
      expect(forged.status).toBe(403);
      const page = await fetch(`${origin}/install`);
      expect(page.headers.get("content-security-policy")).toMatch(
        /^default-src 'none'; script-src 'sha256-/,
      );
    } finally {
      await context.close();
    }
  });
});

describe("the install page's link, without a browser", () => {
  it("is refused to an account that is not entitled to the app, recording nothing", async () => {
    const claimed: string[] = [];
    const store = {
      versionsOf: async () => [
        {
          ...versionRecord({ appleItemId: app }),
          available: true,
          registeredAt: "2026-01-01T00:00:00.000Z",
        },
      ],
      claimInstalls: async (account: string) => {
        claimed.push(account);
        return new Map([[app, "download" as const]]);
      },
      saveGrant: async () => undefined,
    } as unknown as DistributionStore;
    const keys = await generateKeyPair();
    const page = createInstallPageHandler({
      store,
      signer: createInstallTokenSigner({ privateKey: keys.privateKeyPem, keyId, appleItemId: app }),
      appleItemId: app,
      appName: "Example",
      account: (request) => request.headers.get("x-user") ?? undefined,
      entitled: (account) => account === "paid@example.com",
    });
    const post = (user: string) =>
      page(
        new Request("https://apps.example.com/install", {
          method: "POST",
          headers: { origin: "https://apps.example.com", "x-user": user },
        }),
      );
    expect((await post("free@example.com"))!.status).toBe(404);
    expect(claimed).toEqual([]);
    expect((await post("paid@example.com"))!.status).toBe(200);
    expect(claimed).toEqual(["paid@example.com"]);
  });
});
