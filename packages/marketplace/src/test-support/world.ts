import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  createMarketplaceWebhook,
  createWebhook,
} from "@asc-kit/core";
import { nodeListener } from "@asc-kit/notifications/node";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox, SandboxOptions } from "@asc-kit/sandbox";

/** The marketplace app, and the apps it distributes, in the sandbox. */
export const marketplaceApp = "6476788026";

/** A sandbox, a folder, and a receiver URL for a fetch handler served on loopback. */
export interface World {
  sandbox: Sandbox;
  folder: string;
  secret: string;
  client: ReturnType<typeof createAppStoreConnectClient>;
  /** Serves `handler` on loopback and registers it as the webhook (new and deprecated kinds). */
  listen(
    handler: (request: Request) => Promise<Response>,
    kinds?: { webhook?: boolean; marketplaceWebhook?: boolean },
  ): Promise<string>;
  /** Creates the package of `app`'s approved version: its first version is announced. */
  createPackage(app: string): Promise<string>;
  close(): Promise<void>;
}

export async function startWorld(
  apps: readonly string[],
  options: SandboxOptions = {},
): Promise<World> {
  const sandbox = await startSandbox({ apps: [marketplaceApp, ...apps], ...options });
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-"));
  const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
  const secret = crypto.randomUUID();
  const servers: Array<ReturnType<typeof createServer>> = [];
  return {
    sandbox,
    folder,
    secret,
    client,
    async listen(handler, kinds = { webhook: true }) {
      const server = createServer(nodeListener(handler));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications`;
      if (kinds.webhook) {
        const made = await createWebhook(client, {
          appId: marketplaceApp,
          name: "Marketplace",
          url,
          secret,
        });
        if (made.error) throw made.error;
      }
      if (kinds.marketplaceWebhook) {
        const made = await createMarketplaceWebhook(client, { endpointUrl: url, secret });
        if (made.error) throw made.error;
      }
      return url;
    },
    async createPackage(app) {
      const made = await createAlternativeDistributionPackage(client, {
        appStoreVersionId: `${app}-1.0`,
      });
      if (made.error) throw made.error;
      return made.data.data.id;
    },
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await sandbox.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` holds, polling, for at most `ms`. */
export async function until(check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("Timed out waiting.");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
