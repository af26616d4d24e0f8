/**
 * The release, rehearsed against a real npm registry on loopback (Verdaccio): `changeset
 * version` and `pnpm publish -r` on a scratch copy of the repository, then a fresh consumer
 * installs every public package by version range from that registry, checks that no
 * `workspace:` or `catalog:` range was published and that each package carries the LICENSE,
 * and walks the "endpoint asc-kit does not cover yet" journey with the published command.
 */
import { execFile, spawn } from "node:child_process";
import { cp, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { runJourney } from "../packages/spec/src/test-support/journey.ts";
import { repoRoot } from "./lib/paths.ts";
import { freePort } from "./lib/ports.ts";

const run = promisify(execFile);

/** Verdaccio 6.9+ needs Node.js 22; 6.8 runs on 20 once node-fetch is pinned to a real version. */
const verdaccioVersion = "6.8.0";

export async function rehearseRelease(work: string, fail: (message: string) => void) {
  const tools = join(work, "registry-tools");
  await mkdir(tools, { recursive: true });
  await writeFile(
    join(tools, "package.json"),
    JSON.stringify({ private: true, overrides: { "node-fetch": "2.7.0" } }),
  );
  const install = () =>
    run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", `verdaccio@${verdaccioVersion}`],
      { cwd: tools, maxBuffer: 16 * 1024 * 1024 },
    );
  await install().catch(install);

  const port = await freePort();
  const registry = `http://127.0.0.1:${port}/`;
  await writeFile(
    join(tools, "config.yaml"),
    `storage: ./storage
auth: { htpasswd: { file: ./htpasswd, max_users: -1 } }
uplinks: { npmjs: { url: https://registry.npmjs.org/ } }
packages:
  "@asc-kit/*": { access: $all, publish: $anonymous }
  "**": { access: $all, proxy: npmjs }
log: { type: stdout, format: pretty, level: error }
`,
  );
  const server = spawn(
    join(tools, "node_modules/.bin/verdaccio"),
    ["--config", join(tools, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    { cwd: tools, stdio: "ignore" },
  );
  try {
    await waitFor(`${registry}-/ping`);
    const versions = await publish(work, registry);
    await consume(work, registry, versions, fail);
  } finally {
    server.kill();
  }
}

/** A scratch copy: what git tracks, plus the built dist folders. Versioned, then published. */
async function publish(work: string, registry: string): Promise<Record<string, string>> {
  const scratch = join(work, "release");
  const { stdout } = await run("git", ["ls-files", "-z"], { cwd: repoRoot, maxBuffer: 1 << 26 });
  for (const file of stdout.split("\0").filter(Boolean)) {
    await mkdir(dirname(join(scratch, file)), { recursive: true });
    await cp(join(repoRoot, file), join(scratch, file)).catch(() => undefined);
  }
  for (const name of await readdir(join(repoRoot, "packages"))) {
    await cp(join(repoRoot, "packages", name, "dist"), join(scratch, "packages", name, "dist"), {
      recursive: true,
    }).catch(() => undefined);
  }
  await writeFile(
    join(scratch, ".npmrc"),
    `registry=${registry}\n//${registry.slice("http://".length)}:_authToken=rehearsal\n`,
  );
  await run(join(repoRoot, "node_modules/.bin/changeset"), ["version"], { cwd: scratch });
  await run("pnpm", ["install", "--offline", "--ignore-scripts"], { cwd: scratch });
  await run("pnpm", ["publish", "-r", "--no-git-checks", "--registry", registry], {
    cwd: scratch,
    maxBuffer: 1 << 26,
  });
  const versions: Record<string, string> = {};
  for (const name of await readdir(join(scratch, "packages"))) {
    const manifest = JSON.parse(
      await readFile(join(scratch, "packages", name, "package.json"), "utf8"),
    ) as { name: string; version: string; private?: boolean };
    if (!manifest.private) versions[manifest.name] = manifest.version;
  }
  return versions;
}

async function consume(
  work: string,
  registry: string,
  versions: Record<string, string>,
  fail: (message: string) => void,
) {
  const consumer = join(work, "registry-consumer");
  await mkdir(consumer, { recursive: true });
  await writeFile(join(consumer, "package.json"), '{ "private": true, "type": "module" }\n');
  const ranges = Object.entries(versions).map(([name, version]) => `${name}@^${version}`);
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "--registry",
      registry,
      ...ranges,
      "@types/node@^20.19.8",
    ],
    { cwd: consumer, maxBuffer: 1 << 26 },
  );
  const license = await readFile(join(repoRoot, "LICENSE"), "utf8");
  for (const name of Object.keys(versions)) {
    const folder = join(consumer, "node_modules", name);
    const manifest = await readFile(join(folder, "package.json"), "utf8");
    if (/"(workspace|catalog):/.test(manifest)) fail(`${name}: published with a workspace range`);
    if ((await readFile(join(folder, "LICENSE"), "utf8").catch(() => "")) !== license) {
      fail(`${name}: published without the LICENSE`);
    }
  }
  const journey = await runJourney({
    dir: consumer,
    specBin: join(consumer, "node_modules/@asc-kit/spec/dist/bin.js"),
    readme: await readFile(join(consumer, "node_modules/@asc-kit/spec/README.md"), "utf8"),
    excerptText: await readFile(
      join(consumer, "node_modules/@asc-kit/spec/dist/app-store-connect.yaml"),
      "utf8",
    ),
    typeRoots: [join(consumer, "node_modules/@types")],
  });
  const failed = journey.commands.find((command) => command.code !== 0);
  if (failed) fail(`registry consumer: asc-kit-spec ${failed.args.join(" ")}: ${failed.stderr}`);
  if (journey.problems.length > 0) {
    fail(`registry consumer: type errors:\n  ${journey.problems.join("\n  ")}`);
  }
  const expected = JSON.stringify({ ids: ["app-1", "app-2"], keys: 0 });
  if (JSON.stringify(journey.output) !== expected) {
    fail(`registry consumer: the consumer printed ${JSON.stringify(journey.output)}`);
  }
  if (!failed && journey.problems.length === 0) {
    console.log(
      `release rehearsal: published ${ranges.length} packages to a local registry; a consumer installed ${ranges.join(", ")}, added an endpoint with asc-kit-spec, called and paginated it`,
    );
  }
}

async function waitFor(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (
      await fetch(url)
        .then((response) => response.ok)
        .catch(() => false)
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The local registry did not answer at ${url} within 20 s.`);
}
