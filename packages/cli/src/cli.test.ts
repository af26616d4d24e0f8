import { execFile, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPublicKey } from "./test-support/binary.js";

/** The built binary, run as users run it. */
const bin = new URL("../dist/bin.js", import.meta.url).pathname;
const appleCorrupt =
  "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DA7021gAEFQUkD1YB67wg3e0VD/2c3N3Wf92nuQqDgFZuYG/NcYLwT3Zdw77s6//8XSI2NYv7WNgUONxMj+j65Qijq4/fhw==-----END PUBLIC KEY-----";

let sandbox: Sandbox;
let folder: string;
beforeAll(async () => {
  sandbox = await startSandbox({ apps: ["6476788026", "6476788027"] });
  folder = await mkdtemp(join(tmpdir(), "asc-kit-cli-"));
});
afterAll(async () => {
  await sandbox.stop();
});

function cli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string | undefined> } = {},
) {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    ASC_KEY_ID: sandbox.credentials.keyId,
    ASC_ISSUER_ID: sandbox.credentials.issuerId,
    ASC_PRIVATE_KEY: sandbox.credentials.privateKey.replace(/\n/g, "\\n"),
    ASC_BASE_URL: sandbox.url,
    NO_COLOR: "1",
    ...options.env,
  };
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: env as NodeJS.ProcessEnv },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? "");
  });
}

describe("asc-kit keys", () => {
  it("generates a key pair, refusing to overwrite it", async () => {
    const out = join(folder, "generated");
    const first = await cli(["keys", "generate", "--out", out]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Wrote .*private-key\.pem \(keep it secret\)/);
    expect((await stat(join(out, "private-key.pem"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(out, "public-key.pem"), "utf8")).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n/,
    );
    const again = await cli(["keys", "generate", "--out", out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists already; refusing to overwrite/);
  });

  it("adds, lists, gets, shows an app's key and removes, in text and JSON", async () => {
    const accountFile = join(folder, "account.pem");
    await writeFile(accountFile, newPublicKey().replace(/\n/g, ""));
    const added = await cli(["keys", "add", accountFile]);
    expect(added.code).toBe(0);
    const accountId = /Added key (\S+) for the account/.exec(added.stdout)?.[1];
    expect(accountId).toBeDefined();

    const appAdded = await cli(["--json", "keys", "add", "-", "--app", "6476788026"], {
      stdin: newPublicKey(),
    });
    expect(appAdded.code).toBe(0);
    const appKey = JSON.parse(appAdded.stdout) as { id: string; publicKey: string };
    expect(appKey.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);

    const listed = await cli(["keys", "list"]);
    expect(listed.stdout).toMatch(/^ID +SCOPE +FINGERPRINT\n/);
    expect(listed.stdout).toMatch(new RegExp(`${accountId} +account +[0-9a-f]{16}\n`));
    expect(listed.stdout).toMatch(new RegExp(`${appKey.id} +an app +[0-9a-f]{16}\n`));
    const accountOnly = JSON.parse(
      (await cli(["--json", "keys", "list", "--account"])).stdout,
    ) as Array<{ id: string }>;
    expect(accountOnly.map((key) => key.id)).toEqual([accountId]);
    const appOnly = JSON.parse(
      (await cli(["--json", "keys", "list", "--app", "6476788026"])).stdout,
    ) as Array<{ id: string }>;
    expect(appOnly).toEqual([
      expect.objectContaining({
        id: appKey.id,
        computed: {
          scope: "app",
          appId: "6476788026",
          fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      }),
    ]);
    // An app without a key lists nothing; asked for by itself, it is App Store Connect's 404.
    const noKey = await cli(["keys", "list", "--app", "6476788027"]);
    expect(noKey).toMatchObject({ code: 0, stdout: "No keys.\n" });
    expect(
      JSON.parse((await cli(["--json", "keys", "list", "--app", "6476788027"])).stdout),
    ).toEqual([]);
    const asked = await cli(["--json", "keys", "app", "6476788027"]);
    expect(asked.code).toBe(4);
    expect(JSON.parse(asked.stderr)).toMatchObject({ ok: false, code: "NOT_FOUND" });

    const got = await cli(["keys", "get", accountId!]);
    expect(got.stdout).toMatch(
      new RegExp(`^id: +${accountId}\nfingerprint: [0-9a-f]{64}\n-----BEGIN PUBLIC KEY-----`),
    );
    expect(JSON.parse((await cli(["--json", "keys", "app", "6476788026"])).stdout).id).toBe(
      appKey.id,
    );

    const refused = await cli(["keys", "remove", appKey.id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    expect((await cli(["keys", "remove", appKey.id, "--yes"])).stdout).toBe(
      `Removed key ${appKey.id}.\n`,
    );
    expect((await cli(["keys", "remove", accountId!, "--yes"])).code).toBe(0);
  });

  it("exits with documented codes and prints the message and hint", async () => {
    const file = join(folder, "conflict.pem");
    await writeFile(file, newPublicKey());
    expect((await cli(["keys", "add", file])).code).toBe(0);
    await writeFile(file, newPublicKey());
    const conflict = await cli(["keys", "add", file]);
    expect(conflict.code).toBe(5);
    expect(conflict.stderr).toMatch(
      /^error: POST \/v1\/alternativeDistributionKeys: 409 ENTITY_ERROR\.ALREADY_EXISTS: .*\nhint: An alternative distribution key already exists/,
    );

    const missing = await cli(["keys", "get", "no-such-key"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("404 NOT_FOUND");

    const wrongKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const unauthorized = await cli(["keys", "list"], { env: { ASC_PRIVATE_KEY: wrongKey } });
    expect(unauthorized.code).toBe(3);
    expect(unauthorized.stderr).toMatch(
      /401 NOT_AUTHORIZED: The token's signature does not verify/,
    );
    expect(unauthorized.stderr).toMatch(/hint: App Store Connect did not accept the token/);

    const corrupt = await cli(["keys", "add", "-"], { stdin: appleCorrupt });
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/^error: The PUBLIC KEY block is damaged/);

    expect((await cli(["keys", "list"], { env: { ASC_KEY_ID: undefined } })).code).toBe(2);
    expect((await cli(["keys", "frobnicate"])).code).toBe(2);
    expect((await cli(["keys", "list", "--account", "--app", "1"])).code).toBe(2);

    const offline = await cli(["keys", "list"], { env: { ASC_BASE_URL: "http://127.0.0.1:9" } });
    expect(offline.code).toBe(7);
    expect(offline.stderr).toContain("NETWORK_ERROR");

    const asJson = await cli(["--json", "keys", "get", "no-such-key"]);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ ok: false, code: "NOT_FOUND" });
  });

  it("checks keys offline", async () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const sec1 = pair.privateKey.export({ type: "sec1", format: "pem" }).toString();
    const checked = await cli(["keys", "check", "-"], {
      stdin: sec1,
      env: { ASC_BASE_URL: "http://127.0.0.1:9" },
    });
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(
      /^ok: private key, sec1, EC P-256\nfingerprint: [0-9a-f]{64}\npublic key to upload:\n-----BEGIN PUBLIC KEY-----/,
    );
    const asJson = JSON.parse(
      (await cli(["--json", "keys", "check", "-"], { stdin: sec1 })).stdout,
    );
    expect(asJson).toEqual({
      ok: true,
      kind: "private",
      format: "sec1",
      type: "EC",
      curve: "P-256",
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    const corrupt = await cli(["--json", "keys", "check", "-"], { stdin: appleCorrupt });
    expect(corrupt.code).toBe(1);
    expect(JSON.parse(corrupt.stdout)).toMatchObject({ ok: false, code: "ERR_KEY_CORRUPT" });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const unusable = await cli(["keys", "check", "-"], { stdin: rsa });
    expect(unusable.code).toBe(1);
    expect(unusable.stdout).toMatch(
      /^not usable as an alternative distribution key: public key, spki, RSA/,
    );
    expect((await cli(["keys", "check", join(folder, "nope.pem")])).stderr).toContain(
      "no such file",
    );
  });
});

describe("asc-kit token", () => {
  it("prints a token for curl, with scope", async () => {
    const { stdout, code } = await cli(["token", "--scope", "GET /v1/alternativeDistributionKeys"]);
    expect(code).toBe(0);
    const claims = decodeJwt(stdout.trim());
    expect(claims).toMatchObject({
      iss: sandbox.credentials.issuerId,
      aud: "appstoreconnect-v1",
      scope: ["GET /v1/alternativeDistributionKeys"],
    });
    const response = await fetch(`${sandbox.url}/v1/alternativeDistributionKeys`, {
      headers: { Authorization: `Bearer ${stdout.trim()}` },
    });
    expect(response.status).toBe(200);
  });
});

describe("asc-kit domains", () => {
  it("adds, lists, gets and removes domains, with exit codes for conflicts and bad names", async () => {
    const added = await cli([
      "--json",
      "domains",
      "add",
      "Downloads.Example.com",
      "--name",
      "Main site",
    ]);
    expect(added.code).toBe(0);
    const domain = JSON.parse(added.stdout) as { id: string; domain: string };
    expect(domain.domain).toBe("downloads.example.com");
    expect((await cli(["domains", "add", "downloads.example.com", "--name", "Again"])).code).toBe(
      5,
    );
    const invalid = await cli(["domains", "add", "https://example.com/", "--name", "x"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("the host name alone");
    const listed = await cli(["domains", "list"]);
    expect(listed.stdout).toMatch(/^ID +DOMAIN +NAME +CREATED\n/);
    expect(listed.stdout).toContain("downloads.example.com  Main site");
    expect((await cli(["domains", "get", domain.id])).stdout).toContain(domain.id);
    expect((await cli(["domains", "remove", domain.id])).code).toBe(2);
    expect((await cli(["domains", "remove", domain.id, "--yes"])).stdout).toBe(
      `Removed domain ${domain.id}.\n`,
    );
    expect((await cli(["domains", "get", domain.id])).code).toBe(4);
  });
});

describe("asc-kit install-token", () => {
  it("signs a token that verifies, and refuses one checked against another key", async () => {
    const out = join(folder, "install-token");
    await cli(["keys", "generate", "--out", out]);
    const sign = (extra: string[] = []) =>
      cli([
        "install-token",
        "sign",
        "--key",
        join(out, "private-key.pem"),
        "--distribution-key-id",
        "key-1",
        "--apple-id",
        "6476788026",
        "--bundle-id",
        "com.example.app",
        ...extra,
      ]);
    const signed = await sign(["--redownload"]);
    expect(signed.code).toBe(0);
    const token = signed.stdout.trim();
    expect(decodeJwt(token)).toMatchObject({
      iss: "6476788026",
      bid: "com.example.app",
      dtype: "redownload",
      aud: "AppleDownloadVerification-v1",
    });
    const verified = await cli([
      "install-token",
      "verify",
      token,
      "--public-key",
      join(out, "public-key.pem"),
      "--bundle-id",
      "com.example.app",
    ]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^valid: bid=com\.example\.app dtype=redownload .*iss=6476788026/,
    );
    const other = join(folder, "other.pem");
    await writeFile(other, newPublicKey());
    const refused = await cli(["--json", "install-token", "verify", token, "--public-key", other]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({ ok: false, code: "ERR_TOKEN_SIGNATURE" });
    expect((await sign(["--bundle-id", ""])).code).toBe(1);
    expect((await cli(["install-token", "sign", "--key", join(out, "private-key.pem")])).code).toBe(
      2,
    );
  });
});

describe("asc-kit sandbox", () => {
  it("prints one JSON line when ready, serves, and stops on SIGTERM keeping its data", async () => {
    const data = join(folder, "sandbox.json");
    const child = spawn(process.execPath, [bin, "sandbox", "--data", data], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const line = await new Promise<string>((resolve) =>
      child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString())),
    );
    const ready = JSON.parse(line) as {
      url: string;
      keyId: string;
      issuerId: string;
      privateKey: string;
    };
    expect(Object.keys(ready)).toEqual(["url", "keyId", "issuerId", "privateKey"]);
    const added = await cli(["--json", "keys", "add", "-"], {
      stdin: newPublicKey(),
      env: {
        ASC_BASE_URL: ready.url,
        ASC_KEY_ID: ready.keyId,
        ASC_ISSUER_ID: ready.issuerId,
        ASC_PRIVATE_KEY: ready.privateKey,
      },
    });
    expect(added.code).toBe(0);
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(JSON.parse(await readFile(data, "utf8")).keys).toHaveLength(1);
  });
});

describe("asc-kit demo", () => {
  it("walks the whole lifecycle and exits 0", async () => {
    const { code, stdout } = await cli(["demo"]);
    expect(code).toBe(0);
    expect(stdout).toContain("409 ENTITY_ERROR.ALREADY_EXISTS");
    expect(stdout).toContain("ERR_KEY_CORRUPT");
    expect(stdout).toContain("requests sent: 0");
    expect(stdout).toMatch(
      /verified with the public key App Store Connect returns: bid=com\.example\.marketplace\.app/,
    );
    expect(stdout).toMatch(
      /version: 1\.0 COMPLETED, 2 variants, 0 deltas, URLs valid until \d{4}-/,
    );
    expect(stdout).toMatch(
      /layout: +manifest\.json, signature, 2 variants under variant\/ \(\d+ bytes, every chunk verified\)/,
    );
    // Served, installed on the simulated device, then updated to the version published next.
    expect(stdout).toMatch(/✓ variant: variant\/\S+\.ipa: \d+ bytes, every chunk verified/);
    expect(stdout).toMatch(/installed: com\.example\.app6476788026 \(\d{10}\), dtype download/);
    expect(stdout).toMatch(
      /✓ updates: version \d{10} at http:\/\/127\.0\.0\.1:\d+\/6476788026\/2\//,
    );
    expect(stdout).toMatch(
      /installed: com\.example\.app6476788026 1\.0\.2 \(\d{10}\), dtype redownload/,
    );
    expect(stdout).not.toContain("✗");
    expect(stdout).toMatch(
      /Done\. \d+ requests on 1 API token, 3 install verification tokens signed/,
    );
  });
});

describe("asc-kit demo --marketplace", () => {
  it("runs the pipeline: notifications in, served, installed, updated, withdrawn", async () => {
    const { code, stdout } = await cli(["demo", "--marketplace"]);
    expect(code).toBe(0);
    expect(stdout.match(/: downloaded, verified, served/g)).toHaveLength(3);
    expect(stdout).toMatch(/installed: com\.example\.app6476788027 \(\d+\), dtype download/);
    expect(stdout).toMatch(
      /installed: com\.example\.app6476788027 1\.0\.2 \(\d+\), dtype redownload/,
    );
    expect(stdout).toMatch(/\/catalog\/apps\/6476788028\n/);
    expect(stdout).toContain("✓ refused: the server reports the app unavailable (404");
    expect(stdout).toMatch(
      /Done\. 4 notifications recorded, 3 versions downloaded once each and served, 0 failed\./,
    );
  });
});

describe("secrets", () => {
  it("never prints the private key or a token, except when asked for one", async () => {
    const outputs = await Promise.all([
      cli(["keys", "list"], { env: { ASC_BASE_URL: "http://127.0.0.1:9" } }),
      cli(["keys", "get", "nope"]),
      cli(["keys", "add", "-"], { stdin: appleCorrupt }),
      cli(["--json", "keys", "list"], { env: { ASC_PRIVATE_KEY: "garbage" } }),
      cli(["keys", "list"], { env: { ASC_ISSUER_ID: "not-a-uuid" } }),
    ]);
    const privateBody = sandbox.credentials.privateKey.split("\n")[1]!;
    for (const { stdout, stderr } of outputs) {
      expect(stdout + stderr).not.toContain(privateBody);
      expect(stdout + stderr).not.toMatch(/eyJ[\w-]+\.eyJ/);
    }
  });
});
