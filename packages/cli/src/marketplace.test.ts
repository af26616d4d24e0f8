import { spawn } from "node:child_process";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, runBinary } from "./test-support/binary.js";

const app = "6476788026";
const secret = "the marketplace's webhook secret";
let sandbox: Sandbox;
let env: Record<string, string>;

beforeAll(async () => {
  sandbox = await startSandbox({ apps: [app] });
  env = {
    ASC_KEY_ID: sandbox.credentials.keyId,
    ASC_ISSUER_ID: sandbox.credentials.issuerId,
    ASC_PRIVATE_KEY: sandbox.credentials.privateKey,
    ASC_BASE_URL: sandbox.url,
    HOOK_SECRET: secret,
  };
});
afterAll(async () => {
  await sandbox.stop();
});

const cli = (args: string[]) => runBinary(args, { env });
const json = async (args: string[]) => {
  const ran = await cli(["--json", ...args]);
  expect(ran.stderr).toBe("");
  return JSON.parse(ran.stdout) as any;
};

/** `asc-kit notifications listen` in the background, and the lines it prints. */
async function listen() {
  const child = spawn(
    process.execPath,
    [bin, "notifications", "listen", "--secret-env", "HOOK_SECRET"],
    {
      env: { PATH: process.env.PATH, HOOK_SECRET: secret },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split("\n");
    buffered = complete.pop()!;
    lines.push(...complete);
  });
  let stderr = "";
  const url = await new Promise<string>((resolve) =>
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /listening on (\S+)/.exec(stderr)?.[1];
      if (found) resolve(found);
    }),
  );
  return { url, lines, stop: () => child.kill("SIGTERM") };
}

describe("asc-kit webhooks", () => {
  it("registers a local receiver, which gets the verified notification of a new package version", async () => {
    const receiver = await listen();
    try {
      const created = await json([
        "webhooks",
        "create",
        "--app",
        app,
        "--name",
        "local marketplace",
        "--url",
        receiver.url,
        "--secret-env",
        "HOOK_SECRET",
      ]);
      expect(JSON.stringify(created)).not.toContain(secret);
      const listed = await cli(["webhooks", "list", "--app", app]);
      expect(listed.stdout).toMatch(
        /^ID +NAME +ENABLED +URL +EVENTS\n\S+ +local marketplace +yes +http:\/\/127\.0\.0\.1/,
      );

      const made = await json(["packages", "create", "--app-store-version", `${app}-1.0`]);
      await sandbox.notificationsSettled();
      await expect.poll(() => receiver.lines.length).toBe(1);
      const notification = JSON.parse(receiver.lines[0]!);
      expect(notification).toMatchObject({
        type: "alternativeDistributionPackageVersionCreated",
        appId: app,
        instance: { type: "alternativeDistributionPackageVersions" },
      });
      const [version] = await json(["packages", "versions", made.id]);
      expect(notification.instance.id).toBe(version.id);

      const deliveries = await cli(["webhooks", "deliveries", created.id]);
      expect(deliveries.stdout).toMatch(
        /^ID +EVENT +STATE +HTTP +CREATED +REDELIVERY +ERROR\n\S+ +ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED +SUCCEEDED +200 /,
      );
      const [delivery] = await json(["webhooks", "deliveries", created.id, "--state", "SUCCEEDED"]);
      expect((await cli(["webhooks", "redeliver", delivery.id])).code).toBe(0);
      expect((await cli(["webhooks", "ping", created.id])).code).toBe(0);
      await sandbox.notificationsSettled();
      // The redelivery is the same event, which the receiver has seen: it prints only the ping.
      await expect.poll(() => receiver.lines.length).toBe(2);
      expect(JSON.parse(receiver.lines[1]!).type).toBe("webhookPingCreated");
      const withPing = await cli(["webhooks", "deliveries", created.id]);
      expect(withPing.stdout).toMatch(/\n\S+ +PING +SUCCEEDED +200 /);

      const disabled = await json(["webhooks", "update", created.id, "--disable"]);
      expect(disabled.enabled).toBe(false);
      expect((await cli(["webhooks", "update", created.id])).code).toBe(2);
      expect((await cli(["webhooks", "remove", created.id, "--yes"])).code).toBe(0);
      expect((await cli(["webhooks", "list", "--app", app])).stdout).toBe("No webhooks.\n");
    } finally {
      receiver.stop();
    }
  });

  it("takes the secret from a variable only, and refuses unknown event types before any request", async () => {
    const requests = sandbox.stats.requests;
    const create = (secretEnv: string) => [
      ...["webhooks", "create", "--app", app, "--name", "n", "--url", "https://m.example/n"],
      ...["--secret-env", secretEnv],
    ];
    const missing = await runBinary(create("NOPE"), { env: { ...env } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("The variable named by --secret-env is not set or is empty");
    // The secret itself given by mistake, in any form: never repeated, in text or in JSON.
    for (const slip of [
      "the-actual-webhook-secret",
      "s3cr3t value with spaces",
      "A_VALID_LOOKING_SECRET_NAME_1234",
    ]) {
      for (const output of [[], ["--json"]]) {
        const slipped = await runBinary([...output, ...create(slip)], { env: { ...env } });
        expect(slipped.code).toBe(2);
        expect(slipped.stdout + slipped.stderr).not.toContain(slip);
        expect(slipped.stderr).toMatch(/--secret-env/);
      }
    }
    const unknown = await cli([
      "webhooks",
      "create",
      "--app",
      app,
      "--name",
      "n",
      "--url",
      "https://m.example/n",
      "--secret-env",
      "HOOK_SECRET",
      "--events",
      "NEW_APP",
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown event type NEW_APP");
    expect(unknown.stderr).not.toContain(secret);
    expect(sandbox.stats.requests).toBe(requests);
  });
});

describe("asc-kit search-details", () => {
  it("registers, shows, changes and removes a marketplace app's catalog", async () => {
    await json(["domains", "add", "example.com", "--name", "Store"]);
    const refused = await cli([
      "search-details",
      "create",
      "--app",
      app,
      "--catalog-url",
      "https://other.example/s.xml",
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/registered alternative distribution domain/);
    const created = await json([
      "search-details",
      "create",
      "--app",
      app,
      "--catalog-url",
      "https://apps.example.com/sitemap.xml",
    ]);
    const shown = await cli(["search-details", "get", "--app", app]);
    expect(shown.stdout).toMatch(
      /^ID +CATALOG URL\n\S+ +https:\/\/apps\.example\.com\/sitemap\.xml\n$/,
    );
    const changed = await json([
      "search-details",
      "update",
      created.id,
      "--catalog-url",
      "https://example.com/c.xml",
    ]);
    expect(changed.catalogUrl).toBe("https://example.com/c.xml");
    expect((await cli(["search-details", "remove", created.id, "--yes"])).code).toBe(0);
    expect((await cli(["search-details", "get", "--app", app])).code).toBe(4);
  });
});
