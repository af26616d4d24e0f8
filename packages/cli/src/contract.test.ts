import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, newPublicKey, runBinary } from "./test-support/binary.js";

let sandbox: Sandbox;
let folder: string;
let apiEnv: Record<string, string>;
let keyFile: string;

beforeAll(async () => {
  sandbox = await startSandbox({ apps: ["6476788026"] });
  folder = await mkdtemp(join(tmpdir(), "asc-kit-contract-"));
  keyFile = join(folder, "AuthKey.p8");
  await writeFile(keyFile, sandbox.credentials.privateKey);
  apiEnv = {
    ASC_KEY_ID: sandbox.credentials.keyId,
    ASC_ISSUER_ID: sandbox.credentials.issuerId,
    ASC_PRIVATE_KEY: sandbox.credentials.privateKey,
    ASC_BASE_URL: sandbox.url,
  };
});
afterAll(async () => {
  await sandbox.stop();
});

const cli = (args: string[], env: Record<string, string | undefined> = apiEnv, stdin?: string) =>
  runBinary(args, { env, ...(stdin === undefined ? {} : { stdin }) });

const privateKeyBody = () => sandbox.credentials.privateKey.split("\n")[1]!;

/** Every --json failure has this shape, on standard error, and nothing on standard output. */
function jsonFailure(ran: { stdout: string; stderr: string }) {
  expect(ran.stdout).toBe("");
  const parsed = JSON.parse(ran.stderr) as Record<string, unknown>;
  expect(parsed).toMatchObject({
    ok: false,
    code: expect.any(String),
    message: expect.any(String),
  });
  expect(Object.keys(parsed).every((key) => ["ok", "code", "message", "hint"].includes(key))).toBe(
    true,
  );
  return parsed;
}

describe("a key where a file name belongs is never printed", () => {
  const withoutPath = () => ({ ...apiEnv, ASC_PRIVATE_KEY: undefined });
  it.each([
    [
      "ASC_PRIVATE_KEY_PATH holding the key",
      () =>
        cli(["keys", "list"], {
          ...withoutPath(),
          ASC_PRIVATE_KEY_PATH: sandbox.credentials.privateKey,
        }),
      1,
      /looks like the key itself/,
    ],
    [
      "--private-key-path given the key",
      () =>
        cli(["--private-key-path", sandbox.credentials.privateKey, "keys", "list"], withoutPath()),
      1,
      /looks like the key itself/,
    ],
    [
      "install-token sign --key given the key",
      () =>
        cli([
          "install-token",
          "sign",
          "--key",
          sandbox.credentials.privateKey,
          "--distribution-key-id",
          "K",
          "--apple-id",
          "1",
          "--bundle-id",
          "com.example.app",
        ]),
      1,
      /looks like the key itself/,
    ],
    [
      "keys check given the key as an argument",
      () => cli(["keys", "check", sandbox.credentials.privateKey]),
      2,
      /looks like a key/,
    ],
    [
      "keys add given the key's base64 alone",
      () => cli(["keys", "add", privateKeyBody()]),
      1,
      /looks like the key itself/,
    ],
  ])("%s", async (_name, run, code, message) => {
    const ran = await run();
    expect(ran.code).toBe(code);
    expect(ran.stderr).toMatch(message);
    expect(ran.stderr + ran.stdout).not.toContain(privateKeyBody());
    expect(ran.stderr + ran.stdout).not.toContain("PRIVATE KEY");
  });

  it("describes such a value in --json failures too", async () => {
    const ran = await cli(["--json", "keys", "check", sandbox.credentials.privateKey]);
    expect(ran.code).toBe(2);
    expect(jsonFailure(ran).code).toBe("USAGE");
    expect(ran.stderr).not.toContain(privateKeyBody());
  });
});

describe("--json holds for usage errors", () => {
  it.each([
    ["an unknown option", ["keys", "list", "--nope"], /unknown option '--nope'/, "keys list"],
    ["an unknown command", ["keys", "frobnicate"], /unknown command 'frobnicate'/, "keys"],
    ["a missing argument", ["keys", "add"], /missing required argument 'file'/, "keys add"],
    [
      "a missing required option",
      ["domains", "add", "example.com"],
      /required option '--name <referenceName>' not specified/,
      "domains add",
    ],
    [
      "every missing option and argument at once",
      ["webhooks", "create", "--app", "1"],
      /^missing required option '--name <name>', option '--url <url>' and option '--secret-env <name>'$/,
      "webhooks create",
    ],
    [
      "a missing argument and a missing option at once",
      ["domains", "add"],
      /^missing required argument 'domain' and option '--name <referenceName>'$/,
      "domains add",
    ],
    [
      "conflicting options",
      ["keys", "list", "--account", "--app", "1"],
      /cannot be used/,
      "keys list",
    ],
  ])("%s", async (_name, args, message, command) => {
    const ran = await cli(["--json", ...args]);
    expect(ran.code).toBe(2);
    const failure = jsonFailure(ran);
    expect(failure).toMatchObject({
      code: "USAGE",
      hint: `Run 'asc-kit ${command} --help' for usage.`,
    });
    expect(failure.message).toMatch(message);
    const plain = await cli(args);
    expect(plain.stderr).toMatch(new RegExp(`^error: .*\\nhint: Run 'asc-kit ${command} --help'`));
  });

  it("marks required options in help, and prints the version", async () => {
    const help = await cli(["domains", "add", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /--name <referenceName> +a reference name for the domain \(required\)/,
    );
    const version = await cli(["--version"]);
    const { version: expected } = JSON.parse(
      await readFile(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${expected}\n` });
  });
});

describe("local failures exit 1 with a plain message", () => {
  it("a folder that cannot be made (ENOTDIR)", async () => {
    const file = join(folder, "a-file");
    await writeFile(file, "");
    const ran = await cli(["--json", "keys", "generate", "--out", join(file, "keys")]);
    expect(ran.code).toBe(1);
    expect(jsonFailure(ran)).toMatchObject({
      code: "ENOTDIR",
      message: expect.stringMatching(
        /^Cannot create the folder .*: a part of the path is a file, not a folder\.$/,
      ),
    });
  });

  it("a file that does not exist", async () => {
    const ran = await cli(["keys", "add", join(folder, "missing.pem")]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/^error: Cannot read ".*missing\.pem": no such file or folder\.\n$/);
  });

  it("a busy port and a corrupt data file for the sandbox", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    const inUse = await cli(["--json", "sandbox", "--port", String(port)]);
    busy.close();
    expect(inUse.code).toBe(1);
    expect(jsonFailure(inUse)).toMatchObject({
      code: "EADDRINUSE",
      message: expect.stringContaining(`Port ${port} is in use`),
    });

    const corrupt = join(folder, "corrupt.json");
    await writeFile(corrupt, "{ not json");
    const ran = await cli(["sandbox", "--data", corrupt]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/not valid JSON; move it away/);
  });
});

describe("ids and arguments", () => {
  it.each([
    ["keys", "get", "."],
    ["keys", "remove", "..", "--yes"],
    ["domains", "get", "."],
    ["domains", "remove", "..", "--yes"],
  ])("refuses %s %s %j before any request", async (...args) => {
    const before = sandbox.stats.requests;
    const ran = await cli(["--json", ...args]);
    expect(ran.code).toBe(1);
    expect(jsonFailure(ran).code).toBe("INVALID_ARGUMENT");
    expect(sandbox.stats.requests).toBe(before);
  });

  it("keys check --json reports an unusable key as ok: false with its code", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const ran = await cli(["--json", "keys", "check", "-"], apiEnv, rsa);
    expect(ran.code).toBe(1);
    expect(JSON.parse(ran.stdout)).toMatchObject({
      ok: false,
      code: expect.stringMatching(/^ERR_/),
      type: "RSA",
    });
  });

  it("a flag overrides the variable of the other form", async () => {
    const ran = await cli(["--json", "--private-key-path", keyFile, "keys", "list"], {
      ...apiEnv,
      ASC_PRIVATE_KEY: "not a key at all",
    });
    expect(ran.code).toBe(0);
    const both = await cli(["keys", "list"], { ...apiEnv, ASC_PRIVATE_KEY_PATH: keyFile });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
  });

  it("install-token sign takes the distribution key's id from its own option", async () => {
    const out = join(folder, "distribution");
    expect((await cli(["keys", "generate", "--out", out])).code).toBe(0);
    const common = [
      "install-token",
      "sign",
      "--key",
      join(out, "private-key.pem"),
      "--apple-id",
      "1",
      "--bundle-id",
      "com.example.app",
    ];
    const globalOnly = await cli(["--key-id", "API-KEY", ...common]);
    expect(globalOnly.code).toBe(2);
    expect(globalOnly.stderr).toMatch(/--distribution-key-id <id>' not specified/);
    const signed = await cli([
      "--key-id",
      "API-KEY",
      ...common,
      "--distribution-key-id",
      "DIST-KEY",
    ]);
    expect(signed.code).toBe(0);
    expect(decodeProtectedHeader(signed.stdout.trim()).kid).toBe("DIST-KEY");
  });
});

describe("what users asked for", () => {
  it("reads a key file in a folder whose name starts as a key's base64 does", async () => {
    // "MI" and "MH" begin a key's base64, and folder names too.
    for (const name of ["MIKE/Documents/AppStoreConnect/keys", "aMH/asc-kit-contract-Zq81x"]) {
      const keyFolder = join(folder, name);
      await mkdir(keyFolder, { recursive: true });
      const file = join(keyFolder, "AuthKey_ABC1234567.p8");
      const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
      await writeFile(file, pair.privateKey.export({ type: "pkcs8", format: "pem" }));
      const checked = await cli(["keys", "check", file]);
      expect(checked.stderr).toBe("");
      expect(checked.stdout).toMatch(/^ok: private key, pkcs8, EC P-256\n/);
    }
    // The key itself, on one line, is still refused as a file name and never printed.
    const pem = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "der" })
      .toString("base64");
    const refused = await cli(["keys", "check", pem]);
    expect(refused.stderr).toMatch(/looks like the key itself/);
    expect(refused.stderr).not.toContain(pem.slice(0, 20));
  });

  it("refuses to upload the API key's own public key unless --yes", async () => {
    const ran = await cli(["--json", "keys", "add", keyFile]);
    expect(ran.code).toBe(1);
    expect(jsonFailure(ran)).toMatchObject({ code: "API_KEY_AS_DISTRIBUTION_KEY" });
    const forced = await cli(["--json", "keys", "add", keyFile, "--yes"]);
    expect(forced.code).toBe(0);
    const { id } = JSON.parse(forced.stdout) as { id: string };
    expect((await cli(["keys", "remove", id, "--yes"])).code).toBe(0);
  });

  it("finds a domain by host name, and hints at punycode and at a registered domain", async () => {
    expect((await cli(["domains", "add", "dl.example.org", "--name", "Site"])).code).toBe(0);
    const got = await cli(["--json", "domains", "get", "DL.example.org"]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ domain: "dl.example.org" });
    const again = await cli(["domains", "add", "dl.example.org", "--name", "Again"]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/hint: This domain is registered already/);
    const unknown = await cli(["--json", "domains", "get", "nowhere.example.org"]);
    expect(unknown.code).toBe(4);
    expect(jsonFailure(unknown).code).toBe("NOT_FOUND");
    expect(unknown.stderr).not.toContain("404 NOT_FOUND: GET");
    const unicode = await cli(["domains", "add", "bücher.example", "--name", "Books"]);
    expect(unicode.code).toBe(1);
    expect(unicode.stderr).toContain('"xn--bcher-kva.example"');
    const removed = await cli(["domains", "remove", "dl.example.org", "--yes"]);
    expect(removed.stdout).toMatch(/^Removed domain dl\.example\.org \(\S+\)\.\n$/);
  });

  it("sandbox --env prints lines a shell can eval, and the other commands then just work", async () => {
    const child = spawn(process.execPath, [bin, "sandbox", "--env"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, ASC_PRIVATE_KEY_PATH: keyFile },
    });
    try {
      let lines = "";
      await new Promise<void>((resolve) =>
        child.stdout.on("data", (chunk: Buffer) => {
          lines += chunk.toString();
          if (/^export ASC_PRIVATE_KEY='[^']*'\n/m.test(lines)) resolve();
        }),
      );
      expect(lines).toMatch(
        /^unset ASC_PRIVATE_KEY_PATH\nexport ASC_BASE_URL='http:\/\/127\.0\.0\.1:\d+'\n/,
      );
      const script = join(folder, "sandbox.env");
      await writeFile(script, lines);
      const shell = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const run = spawn(
          "sh",
          ["-c", `. "$1" && "$2" "$3" --json keys list`, "sh", script, process.execPath, bin],
          {
            env: { PATH: process.env.PATH, ASC_PRIVATE_KEY_PATH: keyFile },
          },
        );
        let stdout = "";
        run.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        run.on("exit", (code) => resolve({ code, stdout }));
      });
      expect(shell).toEqual({ code: 0, stdout: "[]\n" });
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("packages: create for an approved version, find it, list its versions, show one", async () => {
    const version = "6476788026-1.0";
    const created = await cli(["--json", "packages", "create", "--app-store-version", version]);
    expect(created.code).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const again = await cli(["packages", "create", "--app-store-version", version]);
    expect(again.code).toBe(5);
    const unapproved = await cli(["packages", "create", "--app-store-version", "6476788026-1.1"]);
    expect(unapproved.code).toBe(8);
    expect(unapproved.stderr).toMatch(/PREPARE_FOR_SUBMISSION/);
    const found = await cli(["packages", "get", "--app-store-version", version]);
    expect(found.stdout).toMatch(
      new RegExp(`^id: +${id}\nsourceFileChecksum: SHA_256 [0-9a-f]+\n$`),
    );
    expect((await cli(["packages", "get"])).code).toBe(2);
    const versions = JSON.parse(
      (await cli(["--json", "packages", "versions", id])).stdout,
    ) as Array<{
      id: string;
    }>;
    expect(versions).toHaveLength(1);
    const shown = await cli(["packages", "version", versions[0]!.id]);
    expect(shown.stdout).toMatch(/^ID +VERSION +STATE +URL EXPIRES\n\S+ +1\.0 +COMPLETED +\d{4}-/);
    expect(shown.stdout.match(/^variant /gm)).toHaveLength(2);
    expect((await cli(["packages", "versions", id, "--state", "DONE"])).code).toBe(2);
  });

  it("packages download: lays a version out, verified, and a second run fetches nothing new", async () => {
    // The package the test above created for the approved version.
    const found = await cli(["--json", "packages", "get", "--app-store-version", "6476788026-1.0"]);
    const { id } = JSON.parse(found.stdout) as { id: string };
    const [version] = JSON.parse(
      (await cli(["--json", "packages", "versions", id])).stdout,
    ) as Array<{
      id: string;
    }>;
    const out = join(folder, "served");
    const first = await cli(["packages", "download", version!.id, "--out", out]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^verified: com\.example\.app6476788026 \(6476788026\) in /);
    expect(first.stdout.match(/ downloaded$/gm)).toHaveLength(2);
    const second = JSON.parse(
      (await cli(["--json", "packages", "download", version!.id, "--out", out])).stdout,
    ) as { assets: Array<{ downloaded: boolean }>; keyBlobs: string };
    expect(second.assets.map((asset) => asset.downloaded)).toEqual([false, false]);
    expect(second.keyBlobs).toBe(`${out}.key-blobs.json`);
    await writeFile(join(out, "notes.txt"), "");
    const extra = await cli(["--json", "packages", "download", version!.id, "--out", out]);
    expect(extra.code).toBe(1);
    expect(JSON.parse(extra.stderr)).toMatchObject({ code: "ERR_LAYOUT" });
  });
});

describe("the output model for scripts", () => {
  const addDomain = async (name: string) =>
    expect((await cli(["domains", "add", name, "--name", `Site ${name}`])).code).toBe(0);

  it("--json prints plain resources: id, type, attributes flattened, no links", async () => {
    await addDomain("plain.example.net");
    const listed = await cli(["domains", "list", "--json"]);
    expect(listed.code).toBe(0);
    const domains = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    const domain = domains.find((item) => item.domain === "plain.example.net")!;
    expect(Object.keys(domain).sort()).toEqual([
      "createdDate",
      "domain",
      "id",
      "referenceName",
      "type",
    ]);
    expect(domain.type).toBe("alternativeDistributionDomains");
  });

  it("keeps what the CLI computed apart, under computed", async () => {
    const added = await cli(["keys", "add", "-", "--json"], apiEnv, newPublicKey());
    const key = JSON.parse(added.stdout) as Record<string, any>;
    expect(Object.keys(key).sort()).toEqual(["computed", "id", "publicKey", "type"]);
    expect(key.computed).toEqual({
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      scope: "account",
    });
    expect((await cli(["keys", "remove", key.id, "--yes"])).code).toBe(0);
  });

  it("--json id,domain keeps those fields, before or after the command", async () => {
    await addDomain("fields.example.net");
    for (const args of [
      ["domains", "list", "--json", "id,domain"],
      ["--json", "id,domain", "domains", "list"],
      ["domains", "list", "--json=id,domain"],
    ]) {
      const ran = await cli(args);
      expect(ran.code, args.join(" ")).toBe(0);
      for (const item of JSON.parse(ran.stdout) as object[]) {
        expect(Object.keys(item)).toEqual(["id", "domain"]);
      }
    }
    // A command's name after --json is the command, not a field list.
    expect(JSON.parse((await cli(["--json", "domains", "list"])).stdout)).toBeInstanceOf(Array);
  });

  it("an unknown field is a usage error naming the fields there are", async () => {
    await addDomain("typo.example.net");
    const ran = await cli(["domains", "list", "--json", "id,domian"]);
    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe("");
    const failure = jsonFailure(ran);
    expect(failure.message).toBe("Unknown field for --json: domian.");
    expect(failure.hint).toMatch(/createdDate, domain, id, referenceName, type/);
  });

  it("--ndjson prints a list one object a line", async () => {
    await addDomain("lines.example.net");
    const ran = await cli(["domains", "list", "--ndjson"]);
    expect(ran.code).toBe(0);
    const lines = ran.stdout.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("domain");
    const fields = await cli(["domains", "list", "--ndjson", "--json", "domain"]);
    expect(fields.stdout.split("\n")[0]).toMatch(/^\{"domain":"[^"]+"\}$/);
  });

  it("--jq runs jq on the plain result: strings raw, other values a line each", async () => {
    await addDomain("jq.example.net");
    const names = await cli(["domains", "list", "--jq", ".[].domain"]);
    expect(names.code).toBe(0);
    expect(names.stdout.split("\n")).toContain("jq.example.net");
    const objects = await cli(["domains", "list", "--jq", ".[] | {domain}"]);
    expect(objects.stdout.split("\n")[0]).toMatch(/^\{"domain":"[^"]+"\}$/);
    const counted = await cli([
      "domains",
      "list",
      "--json",
      "id",
      "--jq",
      "map(keys) | add | unique",
    ]);
    expect(counted.stdout).toBe('["id"]\n');
  });

  it("a jq program that does not compile is a usage error with jq's words", async () => {
    const ran = await cli(["domains", "list", "--jq", ".["]);
    expect(ran.code).toBe(2);
    expect(jsonFailure(ran).message).toMatch(/^--jq: jq: error: syntax error/);
  });
});

describe("the README's output examples", () => {
  it("run as written", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Output for scripts"));
    const block = section.match(/^```sh\n([\s\S]*?)^```/m)![1]!;
    const tools = await mkdtemp(join(tmpdir(), "asc-kit-bin-"));
    await writeFile(
      join(tools, "asc-kit"),
      `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`,
      {
        mode: 0o755,
      },
    );
    expect((await cli(["domains", "add", "readme.example.net", "--name", "Readme"])).code).toBe(0);
    const ran = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn("bash", ["-e", "-o", "pipefail", "-c", block], {
          env: { ...process.env, ...apiEnv, PATH: `${tools}:${process.env.PATH}` },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      },
    );
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('"domain": "readme.example.net"');
    expect(ran.stdout.trimEnd().split("\n").at(-1)).toMatch(/^\s*\d+$/);
  });
});

describe("the sandbox's test controls from the command line", () => {
  it("publish a version, add a delta, change availability and territories, withdraw an app", async () => {
    const packageId =
      (
        await cli(["packages", "create", "--app-store-version", "6476788026-1.0", "--jq", ".id"])
      ).stdout.trim() ||
      (
        await cli(["packages", "get", "--app-store-version", "6476788026-1.0", "--jq", ".id"])
      ).stdout.trim();
    const published = await cli([
      "sandbox",
      "publish-version",
      packageId,
      "--version-string",
      "9.0",
    ]);
    expect(published.code, published.stderr).toBe(0);
    const versionId = /^Published version (\S+) of package /.exec(published.stdout)![1]!;
    const versions = await cli(["packages", "versions", packageId, "--json", "id,version,state"]);
    expect(JSON.parse(versions.stdout)).toContainEqual({
      id: versionId,
      version: "9.0",
      state: "COMPLETED",
    });
    expect((await cli(["sandbox", "add-delta", versionId])).stdout).toMatch(/^Added delta \S+ to /);
    const runs = [
      ["sandbox", "set-availability", packageId, "--unavailable"],
      ["sandbox", "set-territories", "6476788026", "--territories", "DEU,FRA", "--available"],
      ["sandbox", "withdraw-app", "6476788026"],
    ];
    for (const args of runs) expect((await cli(args)).code, args.join(" ")).toBe(0);
    expect((await cli(["sandbox", "set-availability", packageId])).code).toBe(2);
    const unknown = await cli(["--json", "sandbox", "withdraw-app", "999"]);
    expect(unknown.code).toBe(4);
    expect(jsonFailure(unknown).message).toMatch(/There is no app 999 in this sandbox\./);
  });

  it("say where no sandbox answered, and how to start one", async () => {
    // A port that was free a moment ago: nothing listens there now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const baseUrl = `http://127.0.0.1:${port}`;
    const ran = await cli(["--json", "sandbox", "withdraw-app", "1"], {
      ...apiEnv,
      ASC_BASE_URL: baseUrl,
    });
    expect(ran.code).toBe(7);
    const failure = jsonFailure(ran);
    expect(failure.message).toBe(
      `POST /sandbox/apps/1/withdrawal: NETWORK_ERROR: fetch failed reaching 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(failure.hint).toMatch(/asc-kit sandbox --env/);
  });
});
