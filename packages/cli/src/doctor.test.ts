import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  accountTokens,
  createDistributionHandler,
  createSignInHandler,
  marketplaceKitConfiguration,
} from "@asc-kit/distribution";
import type { DistributionStore } from "@asc-kit/distribution";
import { findLayouts, layoutFileHandler, registerLayouts } from "@asc-kit/distribution/node";
import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import { nodeListener } from "@asc-kit/notifications/node";
import { generateKeyPair } from "@asc-kit/pem";
import { startSandbox } from "@asc-kit/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, runBinary } from "./test-support/binary.js";
import { app, distributor, keyId, layoutsOnDisk, serve } from "./test-support/layouts.js";

/** The download package's test certificate, for localhost: trusted by the doctor's process only. */
const fixtures = new URL("../../download/src/test-fixtures/", import.meta.url);
type Handler = (request: Request) => Promise<Response>;
type Breaker = (request: Request, next: Handler) => Promise<Response>;

let server: Server;
let origin = "";
let store: DistributionStore;
let publicKey = "";
let good: Handler;
let breaker: Breaker | undefined;
const tokens = accountTokens(new Uint8Array(32).fill(9));
let bearer = "";

beforeAll(async () => {
  const layouts = await layoutsOnDisk();
  publicKey = layouts.publicKey;
  server = createServer({
    cert: readFileSync(new URL("localhost-cert.pem", fixtures)),
    key: readFileSync(new URL("localhost-key.pem", fixtures)),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  store = await openEmbeddedStore(await mkdtemp(join(tmpdir(), "asc-kit-doctor-")));
  const { layouts: found } = await findLayouts(layouts.root, `${origin}/`);
  await registerLayouts(store, found);
  const files = layoutFileHandler(found);
  const signer = createInstallTokenSigner({
    privateKey: layouts.keys.privateKeyPem,
    keyId,
    appleItemId: distributor,
  });
  const signIn = createSignInHandler({
    store,
    issuer: origin,
    tokens,
    signIn: () => ({ account: "erin" }),
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
  good = async (request) =>
    (await files(request)) ?? (await signIn(request)) ?? distribution(request);
  server.on(
    "request",
    nodeListener((request) => (breaker ? breaker(request, good) : good(request))),
  );
  bearer = await tokens.issue("erin");
}, 60_000);
afterAll(async () => {
  server?.close();
  await store?.close();
});

/** `asc-kit doctor` in a process that trusts the test certificate, as JSON. */
function doctor(
  target: string,
  env: Record<string, string> = {},
): Promise<{ code: number; findings: Array<{ check: string; verdict: string; message: string }> }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        bin,
        "--json",
        "doctor",
        target,
        "--app",
        app,
        "--token",
        bearer,
        "--public-key",
        publicKey,
        "--distribution-key-id",
        keyId,
      ],
      {
        env: {
          PATH: process.env.PATH,
          NODE_EXTRA_CA_CERTS: new URL("localhost-cert.pem", fixtures).pathname,
          ...env,
        },
      },
      (error, stdout) => {
        const report = JSON.parse(stdout || "{}") as {
          findings?: Array<{ check: string; verdict: string; message: string }>;
        };
        resolve({ code: error ? Number(error.code) : 0, findings: report.findings ?? [] });
      },
    );
  });
}

const failed = (findings: Array<{ check: string; verdict: string }>) =>
  findings.filter((finding) => finding.verdict === "fail").map((finding) => finding.check);

describe("asc-kit doctor", () => {
  it("passes a good deployment over TLS, installing on the simulated device", async () => {
    breaker = undefined;
    const { code, findings } = await doctor(origin);
    expect(failed(findings)).toEqual([]);
    expect(code).toBe(0);
    expect(findings.map((finding) => finding.check)).toEqual(
      expect.arrayContaining([
        "origin",
        "marketplace-kit",
        "oauth-authorization-server",
        "install: variant",
      ]),
    );
    expect(findings.find((finding) => finding.check === "app-store-connect")?.verdict).toBe(
      "skipped",
    );
  });

  it("passes asc-kit serve itself, over TLS with a self-signed certificate", async () => {
    const layouts = await layoutsOnDisk();
    const served = await serve(layouts.root, layouts.privateKey, [
      ...["--tls-cert", new URL("localhost-cert.pem", fixtures).pathname],
      ...["--tls-key", new URL("localhost-key.pem", fixtures).pathname],
    ]);
    try {
      expect(served.url).toMatch(/^https:\/\/localhost:\d+$/);
      const token = await runBinary([
        "serve",
        "token",
        "--data",
        served.summary.data,
        "--account",
        "gus",
      ]);
      const report = await new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            bin,
            "--json",
            "doctor",
            served.url,
            "--app",
            app,
            "--token",
            token.stdout.trim(),
            "--public-key",
            layouts.publicKey,
          ],
          {
            env: {
              PATH: process.env.PATH,
              NODE_EXTRA_CA_CERTS: new URL("localhost-cert.pem", fixtures).pathname,
            },
          },
          (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
        ),
      );
      expect(report.code, report.stdout).toBe(0);
      expect(JSON.parse(report.stdout)).toMatchObject({ ok: true });
    } finally {
      await served.stop();
    }
  }, 60_000);

  it("checks with App Store Connect that the host is under a registered domain and the key exists", async () => {
    breaker = undefined;
    const sandbox = await startSandbox();
    try {
      const env = {
        ASC_KEY_ID: sandbox.credentials.keyId,
        ASC_ISSUER_ID: sandbox.credentials.issuerId,
        ASC_PRIVATE_KEY: sandbox.credentials.privateKey,
        ASC_BASE_URL: sandbox.url,
      };
      const { code, findings } = await doctor(origin, env);
      expect(code).toBe(1);
      expect(failed(findings)).toEqual(["domain", "key"]);
      expect(findings.find((finding) => finding.check === "domain")!.message).toMatch(
        /localhost is under no registered/,
      );
    } finally {
      await sandbox.stop();
    }
  });

  const otherKey = generateKeyPair();
  it.each<[string, Breaker | "http", string]>([
    [
      "a redirect",
      async (request, next) =>
        request.url.includes("/.well-known/marketplace-kit")
          ? Response.redirect(`${origin}/x`, 301)
          : next(request),
      "marketplace-kit",
    ],
    ["plain http", "http", "origin"],
    [
      "an interval in seconds",
      async (request, next) => {
        if (!request.url.includes("/.well-known/marketplace-kit")) return next(request);
        const body = (await (await next(request)).json()) as {
          updates: { pollingInterval: number };
        };
        body.updates.pollingInterval = 43_200 * 60;
        return Response.json(body);
      },
      "marketplace-kit",
    ],
    [
      "a token signed with another key",
      async (request, next) => {
        const answer = await next(request);
        if (!request.url.endsWith("/restore")) return answer;
        const body = (await answer.json()) as { restores: Array<Record<string, string>> };
        const signer = createInstallTokenSigner({
          privateKey: (await otherKey).privateKeyPem,
          keyId,
          appleItemId: distributor,
        });
        for (const item of body.restores)
          item.installVerificationToken = await signer.sign({
            bundleId: `com.example.app${app}`,
            downloadType: "download",
          });
        return Response.json(body);
      },
      "install: token",
    ],
    [
      "a package on another host",
      async (request, next) => {
        const answer = await next(request);
        if (!request.url.endsWith("/restore")) return answer;
        const body = (await answer.json()) as { restores: Array<Record<string, string>> };
        for (const item of body.restores)
          item.alternativeDistributionPackage = item.alternativeDistributionPackage!.replace(
            "localhost",
            "127.0.0.1",
          );
        return Response.json(body);
      },
      "install: package-host",
    ],
    [
      "a missing asset",
      async (request, next) =>
        request.url.endsWith(".ipa") ? new Response(null, { status: 404 }) : next(request),
      "install: variant",
    ],
  ])("names the rule a deployment with %s breaks", async (_name, broken, check) => {
    breaker = broken === "http" ? undefined : broken;
    const { code, findings } = await doctor(
      broken === "http" ? origin.replace("https:", "http:") : origin,
    );
    expect(code).toBe(1);
    expect(failed(findings)).toContain(check);
  });
});
