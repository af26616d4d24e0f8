import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTokenProvider } from "@asc-kit/core";
import { describe, expect, it } from "vitest";
import { startSandbox } from "./index.js";
import { createSandbox } from "./web.js";
import type { SandboxData } from "./web.js";

const folder = () => mkdtemp(join(tmpdir(), "asc-kit-durability-"));

async function createDomain(url: string, token: string, name: string): Promise<string | undefined> {
  const response = await fetch(`${url}/v1/alternativeDistributionDomains`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      data: {
        type: "alternativeDistributionDomains",
        attributes: { domain: name, referenceName: name },
      },
    }),
  });
  if (response.status !== 201) return undefined;
  return ((await response.json()) as { data: { id: string } }).data.id;
}

describe("no acknowledged write is lost", () => {
  it("keeps all of 300 concurrent creates through a graceful stop", async () => {
    const dataFile = join(await folder(), "sandbox.json");
    const first = await startSandbox({ dataFile });
    const token = await createTokenProvider(first.credentials).getToken();
    const ids = await Promise.all(
      Array.from({ length: 300 }, (_, index) =>
        createDomain(first.url, token, `d${index}.example.com`),
      ),
    );
    expect(ids.filter(Boolean)).toHaveLength(300);
    await first.stop();
    const second = await startSandbox({ dataFile });
    expect(
      second
        .domains()
        .map((domain) => domain.id)
        .sort(),
    ).toEqual([...ids].sort());
    await second.stop();
  });

  it("keeps every answered create through kill -9 mid-stream, and leaves no temporary file", async () => {
    const where = await folder();
    const dataFile = join(where, "sandbox.json");
    const entry = new URL("../dist/index.js", import.meta.url).href;
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { startSandbox } = await import(${JSON.stringify(entry)});
         const sandbox = await startSandbox({ dataFile: ${JSON.stringify(dataFile)} });
         console.log(JSON.stringify({ url: sandbox.url, ...sandbox.credentials }));`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const ready = JSON.parse(
      await new Promise<string>((resolve) =>
        child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString())),
      ),
    ) as { url: string; keyId: string; issuerId: string; privateKey: string };
    const token = await createTokenProvider(ready).getToken();
    const acknowledged: string[] = [];
    let next = 0;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const worker = async () => {
      while (next < 2_000) {
        const id = await createDomain(ready.url, token, `k${next++}.example.com`).catch(
          () => undefined,
        );
        if (id) acknowledged.push(id);
        if (acknowledged.length === 100) child.kill("SIGKILL");
        if (child.exitCode !== null || child.signalCode !== null) return;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await exited;
    expect(acknowledged.length).toBeGreaterThanOrEqual(100);
    const restarted = await startSandbox({ dataFile });
    const kept = new Set(restarted.domains().map((domain) => domain.id));
    expect(acknowledged.filter((id) => !kept.has(id))).toEqual([]);
    expect(await readdir(where)).toEqual(["sandbox.json"]);
    await restarted.stop();
  });

  it("removes temporary files a crash left behind when it starts", async () => {
    const where = await folder();
    const dataFile = join(where, "sandbox.json");
    const uuid = crypto.randomUUID();
    await writeFile(join(where, `sandbox.json.${uuid}.tmp`), "{ half");
    await writeFile(join(where, `.sandbox.json.${uuid}.tmp`), "{ half");
    await writeFile(join(where, "unrelated.tmp"), "kept");
    const sandbox = await startSandbox({ dataFile });
    expect((await readdir(where)).sort()).toEqual(["sandbox.json", "unrelated.tmp"]);
    await sandbox.stop();
  });
});

describe("a save that fails", () => {
  it("answers 500 without the file's path and rolls the change back", async () => {
    const where = await folder();
    const dataFile = join(where, "sandbox.json");
    const sandbox = await startSandbox({ dataFile });
    const token = await createTokenProvider(sandbox.credentials).getToken();
    await rm(where, { recursive: true });
    const response = await fetch(`${sandbox.url}/v1/alternativeDistributionDomains`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        data: {
          type: "alternativeDistributionDomains",
          attributes: { domain: "lost.example.com", referenceName: "Lost" },
        },
      }),
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain("could not save the change, so it was not applied");
    expect(text).not.toContain(where);
    expect(sandbox.domains()).toEqual([]);
    expect(sandbox.stats.creates).toBe(0);
    await sandbox.stop();
  });

  it("rolls back through any storage, and saves once at a time", async () => {
    let saves = 0;
    let concurrent = 0;
    let most = 0;
    let failNext = false;
    const sandbox = await createSandbox({
      storage: {
        load: async () => undefined,
        async save(_data: SandboxData) {
          saves++;
          most = Math.max(most, ++concurrent);
          await new Promise((resolve) => setTimeout(resolve, 5));
          concurrent--;
          if (failNext) throw new Error("disk full at /secret/path");
        },
      },
    });
    const token = await createTokenProvider(sandbox.credentials).getToken();
    const create = (name: string) =>
      sandbox.fetch(`${sandbox.url}/v1/alternativeDistributionDomains`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          data: {
            type: "alternativeDistributionDomains",
            attributes: { domain: name, referenceName: name },
          },
        }),
      });
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, index) => create(`s${index}.example.com`)),
    ).then((responses) => responses.map((response) => response.status));
    expect(statuses.every((status) => status === 201)).toBe(true);
    expect(most).toBe(1);
    // One save at start, then far fewer than one per change: changes join the waiting save.
    expect(saves).toBeLessThan(10);
    failNext = true;
    const failed = await create("fails.example.com");
    expect(failed.status).toBe(500);
    expect(await failed.text()).not.toContain("/secret/path");
    expect(sandbox.domains()).toHaveLength(50);
  });
});
