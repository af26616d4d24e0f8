import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  createWebhook,
} from "@asc-kit/core";
import { signNotification } from "@asc-kit/notifications";
import { startSandbox } from "@asc-kit/sandbox";
import { freePort } from "@asc-kit/test-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, runBinary } from "./test-support/binary.js";

const marketplaceApp = "6476788026";
const app = "6476788027";
const secret = "a webhook secret that is long enough";

describe("asc-kit marketplace run, status and retry, on the embedded database", () => {
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let folder = "";
  let credentials: string[] = [];
  beforeAll(async () => {
    sandbox = await startSandbox({ apps: [marketplaceApp, app], installTargets: ["iPhone"] });
    folder = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-cli-"));
    credentials = [
      ...["--key-id", sandbox.credentials.keyId, "--issuer-id", sandbox.credentials.issuerId],
      ...["--private-key", sandbox.credentials.privateKey, "--base-url", sandbox.url],
    ];
  });
  afterAll(async () => {
    await sandbox?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it("receives, downloads once, dead-letters what cannot be had, and retries it", async () => {
    const packages = join(folder, "packages");
    const data = ["--data", `${packages}.marketplace-data`];
    const { child, summary, stderr } = await startRun([
      ...credentials,
      ...["--packages", packages, "--packages-url", "http://127.0.0.1:1/packages/"],
      ...["--secret-env", "WEBHOOK_SECRET", "--workers", "2"],
    ]);
    try {
      expect(summary).toMatchObject({ workers: 2, database: "embedded" });
      const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
      const url = `${summary.receiver}notifications`;
      expect(
        (await createWebhook(client, { appId: marketplaceApp, name: "m", url, secret })).error,
      ).toBeUndefined();
      const created = await createAlternativeDistributionPackage(client, {
        appStoreVersionId: `${app}-1.0`,
      });
      expect(created.error).toBeUndefined();

      const status = async () => {
        const ran = await runBinary(["--json", "marketplace", "status", ...data]);
        expect(ran.code, ran.stderr).toBe(0);
        return JSON.parse(ran.stdout) as { versions: Record<string, number> };
      };
      await until(async () => (await status()).versions.done === 1);
      const [version] = await readdir(join(packages, app));
      expect(await readdir(join(packages, app, version!))).toEqual(
        expect.arrayContaining(["manifest.json", "signature", "variant"]),
      );

      const body = JSON.stringify({
        data: {
          type: "AlternativeDistributionPackageVersionAvailable",
          id: "a-notification",
          attributes: {
            marketplaceAppId: marketplaceApp,
            appId: app,
            alternativeDistributionPackageId: "no-such-package",
            alternativeDistributionPackageVersionId: "no-such-version",
          },
        },
      });
      const answer = await fetch(url, {
        method: "POST",
        headers: { "x-apple-signature": await signNotification(body, secret) },
        body,
      });
      expect(answer.status).toBe(200);
      await until(async () => (await status()).versions.failed === 1);
      const table = await runBinary(["marketplace", "status", ...data]);
      expect(table.stdout).toMatch(/versions: +1 done, 0 running, 0 queued, 1 failed/);
      expect(table.stdout).toMatch(/failed +no-such-version +6476788027 +1 .*404|NOT_FOUND/);
      expect(table.stdout).toContain("asc-kit marketplace retry");
      const retried = await runBinary(["marketplace", "retry", "no-such-version", ...data]);
      expect(retried.stdout).toBe("Queued again: no-such-version\n");
      expect(stderr()).toContain("served");
      expect(stderr()).not.toContain(secret);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    expect(child.exitCode ?? 0).toBe(0);
    // The folder is free again: status opens the database itself.
    const after = await runBinary(["--json", "marketplace", "status", ...data]);
    expect(JSON.parse(after.stdout).versions).toMatchObject({ done: 1 });
  });

  it("gets what it missed while down: --redeliver-failed, and webhooks redeliver-failed", async () => {
    const down = await startSandbox({ apps: [marketplaceApp, app], installTargets: ["iPhone"] });
    const env = {
      ASC_KEY_ID: down.credentials.keyId,
      ASC_ISSUER_ID: down.credentials.issuerId,
      ASC_PRIVATE_KEY: down.credentials.privateKey,
      ASC_BASE_URL: down.url,
    };
    const port = await freePort();
    const client = createAppStoreConnectClient({ ...down.credentials, baseUrl: down.url });
    const url = `http://127.0.0.1:${port}/notifications`;
    const webhook = await createWebhook(client, { appId: marketplaceApp, name: "m", url, secret });
    const webhookId = webhook.data!.data.id;
    // Nothing listens yet: the version's notification fails, and App Store Connect gives up.
    await createAlternativeDistributionPackage(client, { appStoreVersionId: `${app}-1.0` });
    await down.notificationsSettled();
    const packages = join(folder, "missed");
    const { child, summary } = await startRun([
      ...["--key-id", env.ASC_KEY_ID, "--issuer-id", env.ASC_ISSUER_ID],
      ...["--private-key", env.ASC_PRIVATE_KEY, "--base-url", env.ASC_BASE_URL],
      ...["--packages", packages, "--packages-url", "http://127.0.0.1:1/missed/"],
      ...["--secret-env", "WEBHOOK_SECRET", "--port", String(port)],
      ...["--redeliver-failed", webhookId],
    ]);
    try {
      expect(summary.redelivered).toBe(1);
      await until(async () => (await readdir(packages).catch(() => [] as string[])).includes(app));
      const again = await runBinary(["webhooks", "redeliver-failed", webhookId], { env });
      expect(again).toMatchObject({
        code: 0,
        stdout: "Nothing to redeliver: every event reached the endpoint, or is still on its way.\n",
      });
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      await down.stop();
    }
  });

  it("refuses what it cannot run, saying what to give", async () => {
    const ran = await runBinary([
      ...credentials,
      "marketplace",
      "run",
      ...["--packages", join(folder, "p2"), "--packages-url", "http://127.0.0.1:1/p/"],
      ...["--workers", "0"],
    ]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain("Nothing to run");
    const status = await runBinary(["marketplace", "status"]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain("--database-url");
  });
});

/** `asc-kit marketplace run` in the background, once it has printed its summary line. */
async function startRun(args: string[]) {
  const child = spawn(process.execPath, [bin, "marketplace", "run", ...args], {
    env: { PATH: process.env.PATH, NO_COLOR: "1", WEBHOOK_SECRET: secret },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const summary = await new Promise<Record<string, any>>((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("\n")) resolve(JSON.parse(stdout.split("\n")[0]!));
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, summary, stderr: () => stderr };
}

async function until(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("Timed out waiting.");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("the README's marketplace commands", () => {
  it("run as written against a sandbox, from a notification to the catalog", async () => {
    const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
    const block = /```sh\n([\s\S]*?)```/.exec(
      readme.slice(readme.indexOf("## Running a marketplace")),
    )![1]!;
    const sandbox = await startSandbox({ apps: [marketplaceApp, app], installTargets: ["iPhone"] });
    const cwd = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-readme-"));
    const env: Record<string, string> = {
      ASC_KEY_ID: sandbox.credentials.keyId,
      ASC_ISSUER_ID: sandbox.credentials.issuerId,
      ASC_PRIVATE_KEY: sandbox.credentials.privateKey,
      ASC_BASE_URL: sandbox.url,
    };
    const port = String(await freePort());
    const background: ChildProcess[] = [];
    try {
      for (const line of block.trim().split("\n")) {
        const exported = /^export (\w+)=(.*)$/.exec(line);
        if (exported) {
          env[exported[1]!] = exported[2]!;
          continue;
        }
        const args = [...line.replace(/ &$/, "").matchAll(/"([^"]*)"|(\S+)/g)]
          .map((match) => match[1] ?? match[2]!)
          .slice(1)
          .map((word) => word.replace("8787", port));
        if (line.endsWith("&")) {
          background.push(await inBackground(args, cwd, env));
          continue;
        }
        if (args[0] === "marketplace" && args[1] === "status") {
          // What Apple does next: a developer's package, announced to the webhook.
          const client = createAppStoreConnectClient({
            ...sandbox.credentials,
            baseUrl: sandbox.url,
          });
          await createAlternativeDistributionPackage(client, { appStoreVersionId: `${app}-1.0` });
          await until(async () => {
            const ran = await runBinary(["--json", ...args], { env, cwd });
            return JSON.parse(ran.stdout).versions.done === 1;
          });
        }
        const ran = await runBinary(args, { env, cwd });
        expect(ran, line).toMatchObject({ code: 0 });
      }
      expect(await readdir(join(cwd, "site", app))).toHaveLength(1);
      const sitemap = await readFile(join(cwd, "catalog", "sitemap.xml"), "utf8");
      expect(sitemap).toContain(`https://search.marketplace.example/apps/${app}.html`);
      expect(await readdir(join(cwd, "catalog", "apps"))).toEqual([`${app}.html`]);
    } finally {
      for (const child of background) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
      await sandbox.stop();
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

async function inBackground(args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH, ...env },
    cwd,
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}`)));
  });
  return child;
}

describe("missing credentials", () => {
  it("are named all at once", async () => {
    const ran = await runBinary(["keys", "list"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(
      "Missing the API key ID (ASC_KEY_ID or --key-id) and the API private key (ASC_PRIVATE_KEY or ASC_PRIVATE_KEY_PATH, or --private-key-path).",
    );
  });
});
