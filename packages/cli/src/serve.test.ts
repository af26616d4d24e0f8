import { cp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { postgresBinaries, startTestPostgres } from "@asc-kit/test-postgres";
import type { TestPostgres } from "@asc-kit/test-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBinary } from "./test-support/binary.js";
import { app, distributor, keyId, layoutsOnDisk, serve } from "./test-support/layouts.js";
import type { Served } from "./test-support/layouts.js";

type Layouts = Awaited<ReturnType<typeof layoutsOnDisk>>;

/** `asc-kit device …` with the test key, as JSON lines. */
async function device(layouts: Layouts, origin: string, token: string, ...more: string[]) {
  const ran = await runBinary([
    "--json",
    "device",
    ...(more[0] === "update" ? [] : ["install"]),
    ...more,
    ...["--origin", origin, "--app", app, "--token", token, "--public-key", layouts.publicKey],
    ...["--distribution-key-id", keyId, "--apple-id", distributor],
  ]);
  const lines = ran.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, any>);
  return { ...ran, lines, last: lines.at(-1) };
}

async function tokenFor(data: string, account: string): Promise<string> {
  const ran = await runBinary(["serve", "token", "--data", data, "--account", account]);
  expect(ran.code).toBe(0);
  return ran.stdout.trim();
}

const stores: Array<[string, boolean]> = [
  ["the embedded store", false],
  ["PostgreSQL", true],
];

describe.each(stores)("asc-kit serve on %s, and the device", (_name, onPostgres) => {
  let layouts: Layouts;
  let postgres: TestPostgres | undefined;
  const database = () => (postgres ? ["--database-url", postgres.url] : []);
  beforeAll(async () => {
    if (onPostgres && !postgresBinaries() && !process.env.CI) return;
    layouts = await layoutsOnDisk();
    if (onPostgres) postgres = await startTestPostgres();
  }, 60_000);
  afterAll(() => postgres?.destroy());

  it("installs, updates after a new version, and keeps every download through kill -9", async (context) => {
    if (!layouts) return context.skip();
    let server: Served = await serve(layouts.root, layouts.privateKey, database());
    try {
      const data = server.summary.data as string;
      expect(server.summary).toMatchObject({ store: onPostgres ? "postgres" : "embedded" });
      expect(JSON.stringify(server.summary)).not.toContain(
        layouts.keys.privateKeyPem.slice(30, 60),
      );
      const token = await tokenFor(data, "alice@example.com");
      const first = await device(layouts, server.url, token);
      expect(first.code).toBe(0);
      expect(first.lines.filter((line) => line.step).map((line) => [line.step, line.ok])).toEqual(
        [
          "configuration",
          "restore",
          "token",
          "package-host",
          "manifest",
          "signature",
          "variant",
        ].map((step) => [step, true]),
      );
      expect(first.last).toMatchObject({
        ok: true,
        installed: { downloadType: "download", bytes: 20_000 },
      });
      const installed = first.last!.installed.appleVersionId as string;
      // The answer was durable before it was sent: a kill -9 right after loses nothing.
      await server.stop("SIGKILL");
      await layouts.publish();
      server = await serve(layouts.root, layouts.privateKey, database());
      const again = await device(layouts, server.url, token);
      expect(again.last).toMatchObject({ ok: true, installed: { downloadType: "redownload" } });
      const update = await device(layouts, server.url, token, "update", "--version", installed);
      expect(update.code).toBe(0);
      expect(update.last).toMatchObject({
        ok: true,
        updated: true,
        installed: { shortVersionString: "1.0.2" },
      });
      const none = await device(
        layouts,
        server.url,
        token,
        "update",
        "--version",
        update.last!.installed.appleVersionId,
      );
      expect(none.last).toMatchObject({ ok: true, updated: false });
      // With a token the server did not issue, the device signs in again, and with nobody
      // signed in on the website (no --trial-account, no --account-hook) it cannot.
      const refused = await device(layouts, server.url, "not-a-token");
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stderr)).toMatchObject({
        code: "DEVICE_CHECK_FAILED",
        message: expect.stringMatching(/^The sign-in step failed: the sign-in page answered 401/),
      });
      expect(server.stderr()).not.toContain(token);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it("serves the layouts' files and nothing else", async (context) => {
    if (!layouts) return context.skip();
    const server = await serve(layouts.root, layouts.privateKey, database());
    try {
      const base = `${server.url}/${app}/1`;
      const manifest = await readFile(join(layouts.root, app, "1", "manifest.json"));
      const whole = await fetch(`${base}/manifest.json`);
      expect(whole.status).toBe(200);
      expect(whole.headers.get("content-length")).toBe(String(manifest.length));
      expect(whole.headers.get("accept-ranges")).toBe("bytes");
      const etag = whole.headers.get("etag")!;
      expect(
        (await fetch(`${base}/manifest.json`, { headers: { "if-none-match": etag } })).status,
      ).toBe(304);
      const part = await fetch(`${base}/manifest.json`, { headers: { range: "bytes=10-19" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes 10-19/${manifest.length}`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(manifest.subarray(10, 20));
      const past = await fetch(`${base}/manifest.json`, {
        headers: { range: `bytes=${manifest.length}-` },
      });
      expect(past.status).toBe(416);
      for (const path of [
        `/${app}/1.key-blobs.json`,
        `/${app}/1/`,
        `/${app}/`,
        "/",
        `/${app}/1/../1.key-blobs.json`,
        `/${app}/1/%2e%2e/1.key-blobs.json`,
        `/${app}/1/variant/`,
        "/site.serve-data/token-secret",
        "/../site.serve-data/token-secret",
      ]) {
        const answer = await fetch(`${server.url}${path}`);
        expect([path, answer.status]).toEqual([path, 404]);
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe("asc-kit serve for a website: the install page, the sign-in, a device from a link", () => {
  it("installs from the page's link, and signs in again with PKCE when a token is refused", async () => {
    const layouts = await layoutsOnDisk();
    const server = await serve(layouts.root, layouts.privateKey, [
      "--trial-account",
      "alice@example.com",
    ]);
    try {
      const page = server.summary.layouts[0].installPage as string;
      expect(page).toBe(`${server.url}/install/${app}`);
      const html = await fetch(page);
      expect(html.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await html.text()).toContain('<button id="install"');
      const answer = await fetch(page, { method: "POST", headers: { origin: server.url } });
      const { link } = (await answer.json()) as { link: string };
      expect(link).toMatch(/^marketplace-kit:\/\/install\?alternativeDistributionPackage=/);
      const fromLink = await runBinary([
        "--json",
        ...["device", "install", "--origin", server.url, "--app", app, "--link", link],
        ...[
          "--public-key",
          layouts.publicKey,
          "--distribution-key-id",
          keyId,
          "--apple-id",
          distributor,
        ],
      ]);
      expect(fromLink.code, fromLink.stderr).toBe(0);
      const steps = fromLink.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { step?: string; ok: boolean });
      expect(steps.filter((line) => line.step).map((line) => line.step)).toEqual([
        "configuration",
        "link",
        "sign-in",
        "restore",
        "token",
        "package-host",
        "manifest",
        "signature",
        "variant",
      ]);
      // A refused token: 403, then the authorization code flow with PKCE, then restore again.
      const again = await device(layouts, server.url, "not-a-token");
      expect(again.code, again.stderr).toBe(0);
      expect(
        again.lines
          .filter((line) => line.step)
          .map((line) => `${line.step}:${line.ok}`)
          .slice(1, 4),
      ).toEqual(["restore:true", "sign-in:true", "restore:true"]);
      expect(again.lines.find((line) => line.step === "sign-in")!.detail).toMatch(/PKCE S256/);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe("asc-kit serve --account-hook", () => {
  it("asks the module who is signed in, and refuses both ways at once", async () => {
    const layouts = await layoutsOnDisk();
    const hook = join(layouts.folder, "account-hook.mjs");
    await writeFile(
      hook,
      'export default (request) => request.headers.get("x-user") ?? undefined;\n',
    );
    const both = await runBinary([
      ...["serve", layouts.root, "--key", layouts.privateKey, "--distribution-key-id", keyId],
      ...["--apple-id", distributor, "--account-hook", hook, "--trial-account", "a"],
    ]);
    expect(both.code).toBe(2);
    const server = await serve(layouts.root, layouts.privateKey, ["--account-hook", hook]);
    try {
      const page = `${server.url}/install/${app}`;
      const signedIn = await fetch(page, {
        method: "POST",
        headers: { origin: server.url, "x-user": "dana@example.com" },
      });
      const { link } = (await signedIn.json()) as { link: string };
      expect(new URL(link).searchParams.get("account")).toBe("dana@example.com");
      const nobody = await fetch(page, { method: "POST", headers: { origin: server.url } });
      expect(nobody.status).toBe(401);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe("asc-kit packages validate, and serve's check before serving", () => {
  it("passes a good layout, names what is wrong with a bad one, and serve leaves it out", async () => {
    const layouts = await layoutsOnDisk();
    const good = join(layouts.root, app, "1");
    const bad = join(layouts.root, app, "9");
    await cp(good, bad, { recursive: true });
    await writeFile(join(bad, ".DS_Store"), "");
    const [variant] = await readdir(join(bad, "variant"));
    await writeFile(join(bad, "variant", variant!), Buffer.alloc(20_000));
    const passed = await runBinary(["--json", "packages", "validate", good]);
    expect(passed.code).toBe(0);
    expect(JSON.parse(passed.stdout)).toMatchObject({ ok: true, assets: 2, findings: [] });
    const failed = await runBinary(["--json", "packages", "validate", bad]);
    expect(failed.code).toBe(1);
    const codes = (JSON.parse(failed.stdout) as { findings: Array<{ code: string }> }).findings.map(
      (finding) => finding.code,
    );
    expect(codes.sort()).toEqual(["ERR_CHUNK_DIGEST", "ERR_EXTRA_FILE"]);
    const human = await runBinary(["packages", "validate", bad]);
    expect(human.stdout).toMatch(/ERR_CHUNK_DIGEST +variant\//);
    const server = await serve(layouts.root, layouts.privateKey);
    try {
      expect(server.summary.layouts.map((layout: { path: string }) => layout.path)).toEqual([
        `${app}/1`,
      ]);
      expect(server.stderr()).toMatch(new RegExp(`not served: ${app}/9: .*chunk 0`));
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe("asc-kit serve on one PostgreSQL from two instances", () => {
  it("hands out exactly one download to 200 concurrent restores spread over both", async (context) => {
    if (!postgresBinaries() && !process.env.CI) return context.skip();
    const layouts = await layoutsOnDisk();
    const postgres = await startTestPostgres();
    const servers: Served[] = [];
    try {
      for (const _ of [1, 2])
        servers.push(
          await serve(layouts.root, layouts.privateKey, ["--database-url", postgres.url]),
        );
      const token = await tokenFor(servers[0]!.summary.data as string, "heidi");
      const answers = await Promise.all(
        Array.from({ length: 200 }, async (_, index) => {
          const response = await fetch(`${servers[index % 2]!.url}/marketplace-kit/restore`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}` },
            body: JSON.stringify({
              apps: [{ appleItemId: app }],
              platform: "iOS",
              osVersion: "18.2",
            }),
          });
          const body = (await response.json()) as {
            restores: Array<{ installVerificationToken: string }>;
          };
          const payload = body.restores[0]!.installVerificationToken.split(".")[1]!;
          return (JSON.parse(Buffer.from(payload, "base64url").toString()) as { dtype: string })
            .dtype;
        }),
      );
      expect(answers.filter((dtype) => dtype === "download")).toHaveLength(1);
      // A layout removed while served: its files are gone, the servers go on.
      await rm(join(layouts.root, app, "1", "variant"), { recursive: true });
      const manifest = JSON.parse(
        await readFile(join(layouts.root, app, "1", "manifest.json"), "utf8"),
      ) as {
        variants: Array<{ assetPath: string }>;
      };
      const gone = await fetch(`${servers[1]!.url}/${app}/1/${manifest.variants[0]!.assetPath}`);
      expect(gone.status).toBe(404);
      expect((await fetch(`${servers[1]!.url}/.well-known/marketplace-kit`)).status).toBe(200);
    } finally {
      for (const server of servers) await server.stop();
      await postgres.destroy();
    }
  }, 120_000);
});

describe("asc-kit serve token", () => {
  it("refuses a request without --data, without an account, or with a lifetime of 0", async () => {
    expect((await runBinary(["serve", "token", "--account", "a"])).code).toBe(2);
    expect((await runBinary(["serve", "token", "--data", "x"])).code).toBe(2);
    expect(
      (await runBinary(["serve", "token", "--data", "x", "--account", "a", "--lifetime", "0"]))
        .code,
    ).toBe(2);
  });
});
