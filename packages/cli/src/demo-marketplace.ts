import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  addAlternativeDistributionDomain,
  alternativeDistributionEventTypes,
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  createMarketplaceSearchDetail,
  createWebhook,
  listWebhookDeliveries,
} from "@asc-kit/core";
import { createNotificationHandler, signNotification } from "@asc-kit/notifications";
import type { MarketplaceNotification } from "@asc-kit/notifications";
import { startSandbox } from "@asc-kit/sandbox";
import { unwrap } from "./commands/shared.js";
import { palette } from "./output.js";
import type { Io } from "./output.js";

const marketplaceApp = "6476788026";
const distributedApp = "6476788027";

/**
 * A marketplace's side, against a sandbox in this process: a webhook to a local receiver, a
 * verified notification for each new package version, the download with `asc-kit packages
 * download`, and the delivery log. `run` is the CLI itself, for the download step.
 */
export async function runMarketplaceDemo(
  io: Io,
  run: (args: readonly string[], io: Io) => Promise<number>,
): Promise<void> {
  const colors = palette(io);
  let step = 0;
  const say = (title: string) => io.stdout(`\n${colors.bold(`${++step}. ${title}`)}\n`);
  const note = (text: string) => io.stdout(`   ${text}\n`);

  const sandbox = await startSandbox({ apps: [marketplaceApp, distributedApp] });
  const secret = crypto.randomUUID();
  const received: MarketplaceNotification[] = [];
  let arrived: () => void = () => undefined;
  const handle = createNotificationHandler({
    secret,
    onNotification: (notification) => {
      received.push(notification);
      arrived();
    },
  });
  const receiver = createServer((request, response) => {
    void handle(
      new Request(`http://127.0.0.1${request.url ?? "/"}`, {
        method: request.method ?? "POST",
        headers: request.headers as Record<string, string>,
        body: Readable.toWeb(request) as ReadableStream<Uint8Array>,
        duplex: "half",
      } as RequestInit),
    ).then((answer) => response.writeHead(answer.status).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notifications`;
  const next = () =>
    new Promise<MarketplaceNotification>((resolve) => {
      const count = received.length;
      arrived = () => received.length > count && resolve(received.at(-1)!);
    });
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-"));

  try {
    io.stdout(
      `${colors.bold("asc-kit demo --marketplace")}: a marketplace's side, against a local sandbox at ${sandbox.url}\n`,
    );
    const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });

    say("Start a receiver that verifies each notification's signature");
    note(`listening on ${receiverUrl} (createNotificationHandler from @asc-kit/notifications)`);

    say(`Register a webhook for the marketplace app ${marketplaceApp}`);
    const webhook = unwrap(
      await createWebhook(client, {
        appId: marketplaceApp,
        name: "Local marketplace",
        url: receiverUrl,
        secret,
      }),
    ).data;
    note(`webhook: ${webhook.id}, for ${alternativeDistributionEventTypes.join(", ")}`);
    note("secret:  sent once, never shown again, not even by App Store Connect");

    say("Register the catalog Apple crawls for Spotlight");
    unwrap(
      await addAlternativeDistributionDomain(client, {
        domain: "marketplace.example",
        referenceName: "Marketplace",
      }),
    );
    const detail = unwrap(
      await createMarketplaceSearchDetail(client, {
        appId: marketplaceApp,
        catalogUrl: "https://apps.marketplace.example/sitemap.xml",
      }),
    ).data;
    note(`catalog: ${detail.attributes?.catalogUrl} (on the registered domain)`);

    say(`A developer creates the package of app ${distributedApp}'s approved version`);
    const first = next();
    const created = unwrap(
      await createAlternativeDistributionPackage(client, {
        appStoreVersionId: `${distributedApp}-1.0`,
      }),
    ).data;
    const notified = await first;
    note(`package:  ${created.id}`);
    note(`received: ${describe(notified)} ${colors.green("(signature verified)")}`);

    say("Apple publishes a new version of the package");
    const second = next();
    await sandbox.publishPackageVersion(created.id, "1.0.1");
    const newer = await second;
    note(`received: ${describe(newer)}; the version before is now REPLACED`);
    const versionId =
      newer.type === "alternativeDistributionPackageVersionCreated" ? newer.instance.id : "";

    say("Download the notified version with `asc-kit packages download`");
    const code = await run(
      [
        "--key-id",
        sandbox.credentials.keyId,
        "--issuer-id",
        sandbox.credentials.issuerId,
        "--private-key",
        sandbox.credentials.privateKey,
        "--base-url",
        sandbox.url,
        "packages",
        "download",
        versionId,
        "--out",
        join(folder, "package"),
      ],
      { ...io, stdout: (text) => io.stdout(text.replace(/^(?=.)/gm, "   ")) },
    );
    if (code !== 0) throw new Error(`demo: asc-kit packages download exited ${code}`);

    say("Read the webhook's delivery log, and refuse a forged notification");
    await sandbox.notificationsSettled();
    for (const delivery of unwrap(await listWebhookDeliveries(client, webhook.id))) {
      note(
        `${delivery.id.slice(0, 8)}…  ${delivery.attributes?.deliveryState}  HTTP ${delivery.attributes?.response?.httpStatusCode}`,
      );
    }
    const forged = JSON.stringify({
      data: { type: "AppUnavailable", id: "forged", attributes: {} },
    });
    const answer = await fetch(receiverUrl, {
      method: "POST",
      headers: { "x-apple-signature": await signNotification(forged, "a guessed secret") },
      body: forged,
    });
    note(
      `a body signed with another secret: ${colors.red(`HTTP ${answer.status}`)}, never passed on`,
    );

    io.stdout(
      `\n${colors.green("Done.")} ${received.length} notifications received and verified, 1 package version downloaded and verified.\n`,
    );
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    receiver.closeAllConnections();
    await sandbox.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

function describe(notification: MarketplaceNotification): string {
  return notification.type === "alternativeDistributionPackageVersionCreated"
    ? `${notification.type}, app ${notification.appId}, version ${notification.instance.id}`
    : notification.type;
}
