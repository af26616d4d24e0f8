/**
 * The distribution server the serve figure measures, in a process of its own (so that its RSS
 * is its own): the handler over Node's http, on the embedded store or PostgreSQL, with 20 apps
 * registered. Answers the parent's messages: `rss` with this process's RSS, `limit` with how
 * fast one signer signs the same number of tokens here, in this process.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  accountTokens,
  createDistributionHandler,
  marketplaceKitConfiguration,
} from "@asc-kit/distribution";
import type { DistributionStore } from "@asc-kit/distribution";
import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
import { openPostgresStore } from "@asc-kit/distribution/postgres";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import { nodeListener } from "@asc-kit/notifications/node";

export interface ServeServerStart {
  privateKeyPem: string;
  /** 64 hex digits: the parent issues the bearer tokens with the same secret. */
  tokenSecret: string;
  dataDir?: string;
  databaseUrl?: string;
}

export interface ServeServerReady {
  url: string;
  apps: string[];
}

export type ServeServerMessage =
  { kind: "rss" } | { kind: "limit"; tokens: number; concurrency: number };

const start = await new Promise<ServeServerStart>((resolve) =>
  process.once("message", (m) => resolve(m as ServeServerStart)),
);
const store: DistributionStore = start.databaseUrl
  ? await openPostgresStore(start.databaseUrl, { maxConnections: 16 })
  : await openEmbeddedStore(start.dataDir!);
const apps = Array.from({ length: 20 }, (_, index) => String(6_476_788_000 + index));
for (const app of apps) {
  await store.registerVersion({
    appleItemId: app,
    appleVersionId: String(2_000_000_000 + Number(app.slice(-2))),
    bundleId: `com.example.app${app}`,
    shortVersionString: "1.0",
    bundleVersion: "1",
    platforms: ["iOS"],
    minimumSystemVersions: { iOS: "17.4" },
    packageUrl: `https://apps.example.com/${app}/1/`,
  });
}
const signerOptions = {
  privateKey: start.privateKeyPem,
  keyId: "bench",
  appleItemId: "6476788026",
  lifetimeSeconds: 1200,
};
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const handler = createDistributionHandler({
  store,
  configuration: marketplaceKitConfiguration({
    restore: `${origin}/restore`,
    updatesUrl: `${origin}/updates`,
  }),
  signer: createInstallTokenSigner(signerOptions),
  authenticate: accountTokens(Uint8Array.from(Buffer.from(start.tokenSecret, "hex"))).authenticate,
});
/**
 * The floor: the same transport answering a restore of the same size with no store and no
 * signing (a fixed token per app), so that a round's rate can be set beside what HTTP here
 * allows at all.
 */
const fixedToken = "e".repeat(420);
async function floor(request: Request): Promise<Response> {
  const { apps: asked } = (await request.json()) as { apps: Array<{ appleItemId: string }> };
  const restores = asked.map(({ appleItemId }) => ({
    appleItemId,
    appleVersionId: "2000000000",
    alternativeDistributionPackage: `https://apps.example.com/${appleItemId}/1/`,
    installVerificationToken: fixedToken,
  }));
  return Response.json({ restores, failures: [] }, { headers: { "cache-control": "no-store" } });
}
server.on(
  "request",
  nodeListener((request) =>
    new URL(request.url).pathname === "/floor" ? floor(request) : handler(request),
  ),
);
server.keepAliveTimeout = 65_000;

process.on("message", async (message: ServeServerMessage) => {
  if (message.kind === "rss") return process.send!({ rss: process.memoryUsage.rss() });
  process.send!({ perSecond: await signingRate(message.tokens, message.concurrency) });
});
process.send!({ url: origin, apps } satisfies ServeServerReady);
process.once("disconnect", () => {
  server.closeAllConnections();
  server.close();
  void store.close();
});

/** The limit: `tokens` signed by one signer in this process, `concurrency` at a time. */
async function signingRate(tokens: number, concurrency: number): Promise<number> {
  const signer = createInstallTokenSigner(signerOptions);
  const sign = () =>
    signer.sign({
      bundleId: "com.example.app",
      downloadType: "download",
      installId: "1",
      versionId: "2",
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < tokens) await sign();
    }),
  );
  return tokens / ((performance.now() - started) / 1000);
}
