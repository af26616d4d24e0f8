/**
 * Runs scripts/runtimes/smoke.js, against the installed packages of a consumer, in every
 * runtime the library packages claim: Node.js, Deno, Bun, workerd and headless Chromium.
 * Deno, Bun, workerd and playwright-core come from npm; Chromium is Debian's (.ci/run installs
 * it). Each result is one line; a runtime that cannot run here is reported as skipped, loudly.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { freePort } from "../lib/ports.ts";

const run = promisify(execFile);
const here = new URL(".", import.meta.url).pathname;

export interface RuntimeResult {
  runtime: string;
  outcome: "ok" | "failed" | "skipped";
  detail: string;
}

interface SandboxDetails {
  url: string;
  keyId: string;
  issuerId: string;
  privateKey: string;
}

/** What the browser check uses of playwright-core, which is installed at run time. */
interface Playwright {
  chromium: {
    launch(options: { executablePath: string; args: string[] }): Promise<{
      newPage(): Promise<{
        goto(url: string): Promise<unknown>;
        waitForFunction(
          check: () => unknown,
          argument: undefined,
          options: { timeout: number },
        ): Promise<{ jsonValue(): Promise<unknown> }>;
      }>;
      close(): Promise<void>;
    }>;
  };
}

const toolVersions = { deno: "2", bun: "1", workerd: "latest", "playwright-core": "1" };

export async function checkRuntimes(
  consumer: string,
  sandbox: SandboxDetails,
  tools: string,
): Promise<RuntimeResult[]> {
  for (const file of ["smoke.js", "cli.js", "worker.js", "page.js"]) {
    await copyFile(join(here, file), join(consumer, file));
  }
  await mkdir(tools, { recursive: true });
  const install = () =>
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
        tools,
        ...Object.entries(toolVersions).map(([name, version]) => `${name}@${version}`),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  await install().catch(install);
  const bin = (name: string) => join(tools, "node_modules/.bin", name);
  const details = JSON.stringify(sandbox);
  const fromCommand = async (runtime: string, command: string, args: string[]) => {
    try {
      const { stdout } = await run(command, [...args, details], { cwd: consumer, timeout: 60_000 });
      return result(runtime, stdout.trim());
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      return result(runtime, `failed: ${(stdout || stderr || String(error)).trim()}`);
    }
  };
  return [
    await fromCommand("node", process.execPath, ["cli.js"]),
    await fromCommand("deno", bin("deno"), [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "cli.js",
    ]),
    await fromCommand("bun", bin("bun"), ["cli.js"]),
    await inWorkerd(consumer, bin("workerd"), details).catch(crashed("workerd")),
    await inChromium(consumer, join(tools, "node_modules/playwright-core/index.js"), details).catch(
      crashed("chromium"),
    ),
  ];
}

function crashed(runtime: string) {
  return (error: unknown): RuntimeResult => ({
    runtime,
    outcome: "failed",
    detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}

function result(runtime: string, line: string): RuntimeResult {
  const outcome = line.startsWith("ok: ") ? "ok" : "failed";
  return { runtime, outcome, detail: line.replace(/^(ok|failed): /, "") };
}

async function bundle(consumer: string, entry: string, conditions: string[]): Promise<string> {
  const built = await build({
    entryPoints: [join(consumer, entry)],
    absWorkingDir: consumer,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions,
    write: false,
    logLevel: "silent",
  });
  return built.outputFiles[0]!.text;
}

async function inWorkerd(consumer: string, workerd: string, details: string) {
  await writeFile(
    join(consumer, "worker.bundle.js"),
    await bundle(consumer, "worker.js", ["workerd", "worker"]),
  );
  const port = await freePort();
  // Loopback is "local" to workerd: the sandbox is on 127.0.0.1.
  await writeFile(
    join(consumer, "workerd.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .smoke),
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const smoke :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.bundle.js") ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "loopback",
);
`,
  );
  const server = spawn(workerd, ["serve", "workerd.capnp"], { cwd: consumer, stdio: "ignore" });
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      const answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        body: details,
      }).catch(() => undefined);
      if (answer) return result("workerd", await answer.text());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return result("workerd", "failed: workerd did not answer within 10 s");
  } finally {
    server.kill();
  }
}

async function inChromium(consumer: string, playwright: string, details: string) {
  const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) =>
    existsSync(path),
  );
  if (!executablePath) {
    return {
      runtime: "chromium",
      outcome: "skipped" as const,
      detail:
        "NO CHROMIUM ON THIS MACHINE: install Debian's chromium (.ci/run does) to run the browser check",
    };
  }
  const script = await bundle(consumer, "page.js", ["browser"]);
  const server = createServer((request, response) => {
    if (request.url === "/page.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else {
      response
        .writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><script type="module" src="/page.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // playwright-core is CommonJS: its exports arrive as the default export.
  const loaded = (await import(playwright)) as Playwright & { default?: Playwright };
  const { chromium } = loaded.default ?? loaded;
  const browser = await chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/#${encodeURIComponent(details)}`);
    const line = await page.waitForFunction(
      () => (globalThis as { smokeResult?: string }).smokeResult,
      undefined,
      {
        timeout: 60_000,
      },
    );
    return result("chromium", String(await line.jsonValue()));
  } finally {
    await browser.close();
    server.close();
  }
}
