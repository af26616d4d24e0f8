import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addAlternativeDistributionKey,
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  createWebhook,
} from "@asc-kit/core";
import {
  accountTokens,
  createDistributionHandler,
  marketplaceKitConfiguration,
} from "@asc-kit/distribution";
import { registeredFileHandler } from "@asc-kit/distribution/node";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import { folderStorage, openMarketplace, startEmbeddedDatabase } from "@asc-kit/marketplace";
import type { Marketplace, PipelineEvent } from "@asc-kit/marketplace";
import { nodeListener } from "@asc-kit/notifications/node";
import { generateKeyPair } from "@asc-kit/pem";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import { simulateInstall, simulateUpdate } from "@asc-kit/sandbox/web";
import { unwrap } from "./commands/shared.js";
import { shown } from "./demo-serve.js";
import { palette } from "./output.js";
import type { Io } from "./output.js";

const marketplaceApp = "6476788026";
const [firstApp, secondApp] = ["6476788027", "6476788028"];

/**
 * A marketplace's whole pipeline against a sandbox, in this process on the embedded database:
 * notifications in, versions downloaded once and served, installed and updated on the
 * simulated iPhone, the search catalog, an app withdrawn and refused.
 */
export async function runMarketplaceDemo(io: Io): Promise<void> {
  const colors = palette(io);
  let step = 0;
  const say = (title: string) => io.stdout(`\n${colors.bold(`${++step}. ${title}`)}\n`);
  const note = (text: string) => io.stdout(`   ${text}\n`);
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-"));
  const sandbox = await startSandbox({ apps: [marketplaceApp, firstApp, secondApp] });
  const database = await startEmbeddedDatabase(join(folder, "store"));
  const handlers: Handler[] = [];
  const server = createServer(
    nodeListener(async (request) => {
      for (const handler of handlers) {
        const answer = await handler(request);
        if (answer) return answer;
      }
      return new Response(null, { status: 404 });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
  const shownEvents = new Set<PipelineEvent["kind"]>(["received", "ingest-done", "ingest-failed"]);
  const pipeline = await openMarketplace({
    database,
    client,
    storage: folderStorage(join(folder, "packages"), `${origin}/packages/`),
    onEvent: (event) => shownEvents.has(event.kind) && note(colors.dim(describe(event))),
  });
  try {
    io.stdout(
      `${colors.bold("asc-kit demo --marketplace")}: a marketplace's pipeline, against a local sandbox at ${sandbox.url}\n`,
    );
    say("Open the pipeline on the embedded database, with 2 workers");
    await pipeline.work(2);
    note("PostgreSQL compiled to WebAssembly, in this process: the same SQL and job engine");
    note("(pg-boss) as on a PostgreSQL server shared by many machines");
    const device = await serveDevices(handlers, origin, pipeline, client, join(folder, "packages"));
    note(`serving devices at ${origin}: the receiver, the packages, restore, updates, the catalog`);

    say(`Register a webhook for the marketplace app ${marketplaceApp}`);
    const secret = crypto.randomUUID();
    const receive = pipeline.receiver({ secret });
    handlers.unshift(async (request) =>
      new URL(request.url).pathname === "/notifications" ? receive(request) : undefined,
    );
    unwrap(
      await createWebhook(client, {
        appId: marketplaceApp,
        name: "Marketplace",
        url: `${origin}/notifications`,
        secret,
      }),
    );
    note("each notification is recorded before it is acknowledged, once however often it comes");

    say(`Developers create the packages of apps ${firstApp} and ${secondApp}`);
    const packages: string[] = [];
    for (const app of [firstApp, secondApp]) {
      const made = unwrap(
        await createAlternativeDistributionPackage(client, { appStoreVersionId: `${app}-1.0` }),
      );
      packages.push(made.data.id);
    }
    await settled(sandbox, pipeline, 2);

    say(`Install app ${firstApp} on a simulated iPhone, checking every step as the device does`);
    const installed = shown(note, await simulateInstall({ ...device, appleItemId: firstApp }));

    say("Apple publishes a new version: downloaded, served, and the iPhone updates");
    await sandbox.publishPackageVersion(packages[0]!, "1.0.1");
    await settled(sandbox, pipeline, 3);
    shown(
      note,
      await simulateUpdate({
        ...device,
        appleItemId: firstApp,
        appleVersionId: installed.appleVersionId,
      }),
    );

    say("The search catalog Applebot crawls (catalogUrl), from what is served");
    const sitemap = await (await fetch(`${origin}/catalog/sitemap.xml`)).text();
    for (const [, loc] of sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)) note(loc!);

    say(`App ${secondApp} is withdrawn: restore refuses it from then on`);
    sandbox.withdrawApp(secondApp);
    await sandbox.notificationsSettled();
    await until(async () =>
      (await pipeline.store.versionsOf([secondApp])).every((version) => !version.available),
    );
    const refused = await simulateInstall({ ...device, appleItemId: secondApp });
    const last = refused.steps.at(-1);
    note(`${refused.ok ? "✗ installed" : "✓ refused"}: ${last?.detail ?? ""}`);
    if (refused.ok) throw new Error("demo: a withdrawn app was installed");

    const status = await pipeline.status();
    io.stdout(
      `\n${colors.green("Done.")} ${status.notifications.received} notifications recorded, ${status.versions.done} versions downloaded once each and served, ${status.versions.failed} failed.\n`,
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await pipeline.close();
    await database.stop();
    await sandbox.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * The device-facing server on the pipeline's store: the packages' files, restore, updates and
 * the catalog; and the simulated device's settings, with an alternative distribution key.
 */
async function serveDevices(
  handlers: Handler[],
  origin: string,
  pipeline: Marketplace,
  client: ReturnType<typeof createAppStoreConnectClient>,
  packages: string,
) {
  const keys = await generateKeyPair();
  const key = unwrap(await addAlternativeDistributionKey(client, { publicKey: keys.publicKeyPem }));
  const tokens = accountTokens(crypto.getRandomValues(new Uint8Array(32)));
  const distribution = createDistributionHandler({
    store: pipeline.store,
    configuration: marketplaceKitConfiguration({
      restore: `${origin}/marketplace-kit/restore`,
      updatesUrl: `${origin}/marketplace-kit/updates`,
    }),
    signer: createInstallTokenSigner({
      privateKey: keys.privateKeyPem,
      keyId: key.data.id,
      appleItemId: marketplaceApp,
      lifetimeSeconds: 1200,
    }),
    authenticate: tokens.authenticate,
    catalog: { url: `${origin}/catalog/` },
  });
  const files = registeredFileHandler(pipeline.store, packages, `${origin}/packages/`);
  handlers.push(files, distribution);
  return {
    origin,
    token: await tokens.issue("someone@example.com", 3600),
    publicKey: keys.publicKeyPem,
    keyId: key.data.id,
    issuer: marketplaceApp,
    seenNonces: new Set<string>(),
  };
}

type Handler = (request: Request) => Promise<Response | undefined>;

/** Waits for the sandbox's deliveries, then for the workers to have served `done` versions. */
async function settled(sandbox: Sandbox, pipeline: Marketplace, done: number): Promise<void> {
  await sandbox.notificationsSettled();
  await until(async () => (await pipeline.status()).versions.done >= done);
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("demo: the pipeline did not finish within a minute");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function describe(event: PipelineEvent): string {
  switch (event.kind) {
    case "received":
      return `received ${event.type}${event.duplicate ? " (a duplicate: recorded before)" : ""}`;
    case "ingest-done":
      return `version ${event.versionId.slice(0, 8)}… of app ${event.appId}: downloaded, verified, served`;
    case "ingest-failed":
      return `version ${event.versionId.slice(0, 8)}…: ${event.reason}`;
    default:
      return event.kind;
  }
}
