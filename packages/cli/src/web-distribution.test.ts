import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandbox } from "@asc-kit/sandbox";
import type { Sandbox } from "@asc-kit/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBinary } from "./test-support/binary.js";

/** The root README's web distribution commands, run as written against a sandbox. */
const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## Web distribution"));
const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.stop());

describe("the README's web distribution walk-through", () => {
  it("runs as written, from an approved version to a folder to serve", async () => {
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
      const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
      expect(words[0]).toBe("asc-kit");
      const args = words.slice(1).map((word) => ids[word] ?? word);
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
  });
});
