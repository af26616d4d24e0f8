import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, runBinary } from "./test-support/binary.js";

/** The root README's web distribution commands, run as written against a sandbox. */
const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
const blockAfter = (heading: string) =>
  /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)))![1]!;
const block = blockAfter("## Web distribution");
const marketplaceBlock = blockAfter("## Marketplaces");
const servingBlock = blockAfter("## Serving installs");
const websiteBlock = blockAfter("## Distributing from your website");
const words = (command: string) =>
  [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.stop());

describe("the README's web distribution walk-through", () => {
  it("runs as written, from an approved version to a folder served to a device", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "asc-kit-web-"));
    const env = {
      ASC_KEY_ID: sandbox.credentials.keyId,
      ASC_ISSUER_ID: sandbox.credentials.issuerId,
      ASC_PRIVATE_KEY: sandbox.credentials.privateKey,
      ASC_BASE_URL: sandbox.url,
    };
    const ids: Record<string, string> = {};
    const commands = block
      .trim()
      .split("\n")
      .flatMap((line) => line.split(" && "));
    for (const command of commands) {
      const parts = words(command);
      expect(parts[0]).toBe("asc-kit");
      const args = parts.slice(1).map((word) => ids[word] ?? word);
      const ran = await runBinary(["--json", ...args], { env, cwd });
      expect(ran, command).toMatchObject({ code: 0 });
      const printed = JSON.parse(ran.stdout || "null") as { id?: string } | Array<{ id: string }>;
      if (args[0] === "packages" && args[1] === "get")
        ids["<package-id>"] = (printed as { id: string }).id;
      if (args[0] === "packages" && args[1] === "versions") {
        ids["<version-id>"] = (printed as Array<{ id: string }>)[0]!.id;
      }
    }
    const laidOut = (await readdir(join(cwd, "site/package"))).sort();
    expect(laidOut).toEqual(["manifest.json", "signature", "variant"]);
    expect(await readdir(join(cwd, "site"))).toContain("package.key-blobs.json");
    await runServingBlock(cwd, env, ids);
  }, 60_000);
});

/**
 * The README's serving and website commands, after the walk-through, in its folder: a server in
 * the background, a token or an install page's link, a device; the README's port swapped for a
 * free one.
 */
async function runServingBlock(
  cwd: string,
  env: Record<string, string>,
  ids: Record<string, string>,
) {
  const listed = await runBinary(["--json", "keys", "list"], { env, cwd });
  ids["<key-id>"] = (JSON.parse(listed.stdout) as Array<{ id: string }>)[0]!.id;
  for (const block of [servingBlock, websiteBlock]) await runBlock(block, cwd, env, ids);
}

async function runBlock(
  block: string,
  cwd: string,
  env: Record<string, string>,
  ids: Record<string, string>,
) {
  const port = String(await freePort());
  const background: ChildProcess[] = [];
  try {
    for (const line of block.trim().split("\n")) {
      const args = words(line.replace(/ &$/, ""))
        .slice(1)
        .map((word) => ids[word] ?? word.replace("8080", port));
      if (line.endsWith("&")) {
        background.push(await inBackground(args, cwd, env, line));
        if (block.includes("<link>")) ids["<link>"] = await installPageLink(port, args);
        continue;
      }
      const ran = await runBinary(["--json", ...args], { env, cwd });
      expect(ran, line).toMatchObject({ code: 0 });
      if (args[0] === "serve" && args[1] === "token")
        ids["<token>"] = (JSON.parse(ran.stdout) as { token: string }).token;
      if (args[0] === "device") expect(ran.stdout).toContain('"ok":true,"installed"');
    }
  } finally {
    for (const child of background) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    }
  }
}

/** Starts a command that serves until stopped; resolves once it has printed its first line. */
async function inBackground(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  line: string,
) {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH, ...env },
    cwd,
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`${line} exited ${code}`)));
  });
  return child;
}

/** What the install page's button navigates to: the link its POST answers. */
async function installPageLink(port: string, serveArgs: string[]): Promise<string> {
  const appleId = serveArgs[serveArgs.indexOf("--apple-id") + 1];
  const origin = `http://127.0.0.1:${port}`;
  const answer = await fetch(`${origin}/install/${appleId}`, {
    method: "POST",
    headers: { origin },
  });
  return ((await answer.json()) as { link: string }).link;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describe("the README's marketplace walk-through", () => {
  it("runs as written: a receiver, a webhook, a verified notification, a download", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "asc-kit-marketplace-"));
    // The README's port, swapped for one that is free here.
    const port = await freePort();
    const env: Record<string, string> = {
      ASC_KEY_ID: sandbox.credentials.keyId,
      ASC_ISSUER_ID: sandbox.credentials.issuerId,
      ASC_PRIVATE_KEY: sandbox.credentials.privateKey,
      ASC_BASE_URL: sandbox.url,
    };
    const ids: Record<string, string> = {};
    const printed: string[] = [];
    const background: Array<{ kill(): void }> = [];
    try {
      for (const line of marketplaceBlock.trim().split("\n")) {
        const command = line.replaceAll("8787", String(port));
        if (command.startsWith("export ")) {
          const [name, value] = command.slice("export ".length).split("=") as [string, string];
          env[name] = value;
          continue;
        }
        const args = words(command.replace(/ &$/, ""))
          .slice(1)
          .map((word) => ids[word] ?? word);
        if (command.endsWith(" &")) {
          const child = spawn(process.execPath, [bin, ...args], {
            env: { PATH: process.env.PATH, ...env },
            cwd,
            stdio: ["ignore", "pipe", "pipe"],
          });
          background.push(child);
          child.stdout.on("data", (chunk: Buffer) =>
            printed.push(...chunk.toString().split("\n").filter(Boolean)),
          );
          await new Promise<void>((resolve) =>
            child.stderr.on("data", (chunk: Buffer) => {
              if (chunk.toString().includes("listening on")) resolve();
            }),
          );
          continue;
        }
        if (command.includes("<version-id>")) {
          // The version the receiver was told of, by the README's `packages create`.
          await sandbox.notificationsSettled();
          const created = printed
            .map((text) => JSON.parse(text) as { type: string; instance?: { id: string } })
            .find(
              (notification) =>
                notification.type === "alternativeDistributionPackageVersionCreated",
            );
          expect(created, "the receiver printed the new version's notification").toBeDefined();
          args.splice(args.indexOf("<version-id>"), 1, created!.instance!.id);
        }
        const ran = await runBinary(["--json", ...args], { env, cwd });
        expect(ran, command).toMatchObject({ code: 0 });
        if (args[0] === "webhooks" && args[1] === "create") {
          ids["<webhook-id>"] = (JSON.parse(ran.stdout) as { id: string }).id;
        }
      }
      await sandbox.notificationsSettled();
      expect(printed.map((text) => (JSON.parse(text) as { type: string }).type)).toContain(
        "webhookPingCreated",
      );
      expect((await readdir(join(cwd, "store/package"))).sort()).toEqual([
        "manifest.json",
        "signature",
        "variant",
      ]);
    } finally {
      for (const child of background) child.kill();
    }
  });
});
