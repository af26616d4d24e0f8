import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { AppStoreConnectClient } from "@asc-kit/core";
import {
  accountTokens,
  createDistributionHandler,
  marketplaceKitConfiguration,
} from "@asc-kit/distribution";
import { findLayouts, layoutFileHandler, registerLayouts } from "@asc-kit/distribution/node";
import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
import { downloadPackageVersion } from "@asc-kit/download";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import { nodeListener } from "@asc-kit/notifications/node";
import type { Sandbox } from "@asc-kit/sandbox";
import { simulateInstall, simulateUpdate } from "@asc-kit/sandbox/web";
import type { DeviceResult } from "@asc-kit/sandbox/web";

/** What the demo's serving part needs from the steps before it. */
export interface ServingDemo {
  say(title: string): void;
  note(text: string): void;
  sandbox: Sandbox;
  client: AppStoreConnectClient;
  /** A scratch folder: the layouts go in `site/`, the store in `data/`. */
  folder: string;
  appleItemId: string;
  packageId: string;
  /** The first version, downloaded as `site/<app>/1`. */
  versionId: string;
  keys: { privateKeyPem: string; publicKeyPem: string };
  keyId: string;
}

/**
 * Serves the downloaded layout as `asc-kit serve` does (the embedded store, a loopback port),
 * installs it on the simulated device, publishes a new version in the sandbox, downloads it,
 * and updates the device: every step of each checked as a device checks it. Resolves with the
 * number of install verification tokens the server handed out.
 */
export async function demoServing(demo: ServingDemo): Promise<number> {
  const { say, note } = demo;
  const site = join(demo.folder, "site");
  const download = async (versionId: string, name: string) => {
    await downloadPackageVersion(demo.client, versionId, {
      out: join(site, demo.appleItemId, name),
    });
  };
  await download(demo.versionId, "1");
  say("Serve it to devices: /.well-known/marketplace-kit, restore and updates, the files");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = await openEmbeddedStore(join(demo.folder, "data"));
  try {
    let files = layoutFileHandler([]);
    const publish = async () => {
      const { layouts } = await findLayouts(site, `${origin}/`);
      await registerLayouts(store, layouts);
      files = layoutFileHandler(layouts);
      return layouts;
    };
    const tokens = accountTokens(crypto.getRandomValues(new Uint8Array(32)));
    const distribution = createDistributionHandler({
      store,
      configuration: marketplaceKitConfiguration({
        restore: `${origin}/marketplace-kit/restore`,
        updatesUrl: `${origin}/marketplace-kit/updates`,
      }),
      signer: createInstallTokenSigner({
        privateKey: demo.keys.privateKeyPem,
        keyId: demo.keyId,
        appleItemId: demo.appleItemId,
        lifetimeSeconds: 1200,
      }),
      authenticate: tokens.authenticate,
    });
    server.on(
      "request",
      nodeListener(async (request) => (await files(request)) ?? distribution(request)),
    );
    const [first] = await publish();
    note(
      `serving: ${origin}/${first!.path}/ (version ${first!.record.appleVersionId}, embedded store)`,
    );
    const device = {
      origin,
      appleItemId: demo.appleItemId,
      token: await tokens.issue("someone@example.com", 3600),
      publicKey: demo.keys.publicKeyPem,
      keyId: demo.keyId,
      issuer: demo.appleItemId,
      seenNonces: new Set<string>(),
    };
    say("Install it on a simulated iPhone, checking every step as the device does");
    const installed = shown(note, await simulateInstall(device));
    say("Publish a new version in the sandbox, download it, and update the iPhone");
    await download(await demo.sandbox.publishPackageVersion(demo.packageId), "2");
    await publish();
    shown(note, await simulateUpdate({ ...device, appleVersionId: installed.appleVersionId }));
    return device.seenNonces.size;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  }
}

/** Prints each step; the installed app, or an error naming the step that failed. */
export function shown(
  note: (text: string) => void,
  result: DeviceResult,
): NonNullable<DeviceResult["installed"]> {
  for (const step of result.steps) note(`${step.ok ? "✓" : "✗"} ${step.step}: ${step.detail}`);
  if (!result.ok || !result.installed)
    throw new Error(`demo: the device's ${result.failedStep ?? "update"} step failed`);
  const { installed } = result;
  note(
    `installed: ${installed.bundleId} ${installed.shortVersionString ?? ""} (${installed.appleVersionId}), dtype ${installed.downloadType}`.replace(
      "  ",
      " ",
    ),
  );
  return installed;
}
