/**
 * pnpm check:packages: every public package as it would be published.
 *
 * 1. `pnpm pack` each public package (workspace and catalog versions resolved as on publish).
 * 2. publint --strict and attw --profile esm-only on each; the library packages must also bundle
 *    for the browser platform, which has no Node.js built-ins.
 * 3. A consumer outside the workspace installs the tarballs with npm, type-checks a TypeScript
 *    file with moduleResolution nodenext and bundler, runs it against a sandbox on loopback,
 *    and loads the packages from CommonJS through require.
 * 4. One smoke script in Node.js, Deno, Bun, workerd and headless Chromium (scripts/runtimes).
 * 5. The release, rehearsed against a local npm registry (scripts/rehearsal.ts).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { repoRoot } from "./lib/paths.ts";
import { rehearseRelease } from "./rehearsal.ts";
import { checkRuntimes } from "./runtimes/check.ts";

const run = promisify(execFile);
const bin = (name: string) => join(repoRoot, "node_modules/.bin", name);

const packagesDir = join(repoRoot, "packages");
/** The entry points that promise to run wherever Web Crypto and fetch do, per package. */
const webEntries = new Map([
  ["@asc-kit/core", ["dist/index.js"]],
  ["@asc-kit/distribution", ["dist/index.js"]],
  ["@asc-kit/pem", ["dist/index.js"]],
  ["@asc-kit/errors", ["dist/index.js"]],
  ["@asc-kit/install-token", ["dist/index.js"]],
  ["@asc-kit/notifications", ["dist/index.js"]],
  ["@asc-kit/sandbox", ["dist/web.js"]],
]);
const publicPackages: Array<{ dir: string; name: string; manifest: Record<string, unknown> }> = [];
for (const entry of (await readdir(packagesDir)).sort()) {
  const manifest = JSON.parse(
    await readFile(join(packagesDir, entry, "package.json"), "utf8"),
  ) as Record<string, unknown>;
  if (!manifest.private)
    publicPackages.push({ dir: join(packagesDir, entry), name: String(manifest.name), manifest });
}

const work = await mkdtemp(join(tmpdir(), "asc-kit-packages-"));
const tarballs = join(work, "tarballs");
await mkdir(tarballs);
const rootLicense = await readFile(join(repoRoot, "LICENSE"), "utf8");
let failures = 0;
const fail = (message: string) => {
  failures++;
  console.error(`✗ ${message}`);
};

for (const pkg of publicPackages) {
  const { stdout } = await run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: pkg.dir });
  const tarball = stdout.trim().split("\n").pop()!.trim();
  const { stdout: listing } = await run("tar", ["-xOzf", tarball, "package/LICENSE"]).catch(() => ({
    stdout: "",
  }));
  if (listing !== rootLicense)
    fail(`${pkg.name}: the tarball's LICENSE is missing or not the repository's`);
  const { messages } = await publint({ pkgDir: pkg.dir, strict: true, pack: "pnpm" });
  for (const message of messages)
    fail(
      `${pkg.name}: publint ${message.type}: ${formatMessage(message, pkg.manifest) ?? message.code}`,
    );
  try {
    await run(bin("attw"), [tarball, "--profile", "esm-only", "--no-color"]);
  } catch (error) {
    fail(`${pkg.name}: attw found problems:\n${(error as { stdout?: string }).stdout ?? error}`);
  }
  for (const entry of webEntries.get(pkg.name) ?? []) {
    try {
      await build({
        entryPoints: [join(pkg.dir, entry)],
        bundle: true,
        platform: "browser",
        format: "esm",
        write: false,
        logLevel: "silent",
      });
    } catch (error) {
      fail(
        `${pkg.name}/${entry}: does not bundle for the browser (a Node.js built-in?):\n${(error as Error).message}`,
      );
    }
  }
  console.log(
    `${pkg.name}: packed, publint and attw checked${webEntries.has(pkg.name) ? `, ${webEntries.get(pkg.name)!.join(", ")} bundles for the browser` : ""}`,
  );
}

// A consumer outside the workspace, installing the tarballs as users install the packages.
const consumer = join(work, "consumer");
await mkdir(consumer);
await writeFile(
  join(consumer, "package.json"),
  JSON.stringify({ name: "asc-kit-consumer", private: true, type: "module" }),
);
const packed = (await readdir(tarballs)).map((file) => join(tarballs, file));
// The registry is reached for the packages' own dependencies: one more try on a passing fault.
const install = () =>
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...packed], {
    cwd: consumer,
  });
await install().catch(install);

await writeFile(
  join(consumer, "consumer.ts"),
  `import { addAlternativeDistributionKey, createAppStoreConnectClient, listAlternativeDistributionKeys } from "@asc-kit/core";
import type { paths } from "@asc-kit/core";
import { AppStoreConnectError, hasErrorCode } from "@asc-kit/errors";
import { createInstallTokenSigner, verifyInstallVerificationToken } from "@asc-kit/install-token";
import { generateKeyPair, toPublicKeyPem } from "@asc-kit/pem";
import { startSandbox } from "@asc-kit/sandbox";

const path: keyof paths = "/v1/alternativeDistributionKeys";
const sandbox = await startSandbox();
try {
  const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
  const pair = await generateKeyPair();
  const added = await addAlternativeDistributionKey(client, { publicKey: pair.privateKeyPem });
  if (added.error) throw added.error;
  const second = await addAlternativeDistributionKey(client, { publicKey: (await generateKeyPair()).publicKeyPem });
  if (!(second.error instanceof AppStoreConnectError) || second.error.kind !== "conflict" || !hasErrorCode(second.error, "ENTITY_ERROR")) {
    throw new Error("expected a 409");
  }
  const listed = await listAlternativeDistributionKeys(client);
  if (listed.data?.length !== 1) throw new Error("expected one key");
  const token = await createInstallTokenSigner({ privateKey: pair.privateKeyPem, keyId: added.data.data.id, appleItemId: "6476788026" })
    .sign({ bundleId: "com.example.app", downloadType: "download" });
  await verifyInstallVerificationToken(token, await toPublicKeyPem(pair.privateKeyPem));
  console.log("consumer ok: " + path);
} finally {
  await sandbox.stop();
}
`,
);
const compilerOptions = {
  target: "ES2022",
  lib: ["ES2023", "DOM"],
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  types: [],
};
for (const [name, options] of [
  ["nodenext", { module: "NodeNext", moduleResolution: "NodeNext" }],
  ["bundler", { module: "ESNext", moduleResolution: "Bundler" }],
] as const) {
  const config = join(consumer, `tsconfig.${name}.json`);
  await writeFile(
    config,
    JSON.stringify({ compilerOptions: { ...compilerOptions, ...options }, files: ["consumer.ts"] }),
  );
  try {
    await run(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", config]);
    console.log(`consumer: type-checks with moduleResolution ${name}`);
  } catch (error) {
    fail(
      `consumer: type check with moduleResolution ${name} failed:\n${(error as { stdout?: string }).stdout ?? error}`,
    );
  }
}
// The nodenext build, emitted this time, is what runs.
const emitConfig = join(consumer, "tsconfig.emit.json");
await writeFile(
  emitConfig,
  JSON.stringify({
    compilerOptions: {
      ...compilerOptions,
      noEmit: false,
      outDir: "out",
      module: "NodeNext",
      moduleResolution: "NodeNext",
    },
    files: ["consumer.ts"],
  }),
);
await run(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", emitConfig]);
const ran = await run(process.execPath, [join(consumer, "out/consumer.js")]).catch(
  (error: { stderr?: string }) => {
    fail(`consumer: running against the sandbox failed:\n${error.stderr ?? error}`);
    return { stdout: "" };
  },
);
if (ran.stdout.includes("consumer ok")) console.log("consumer: ran against a sandbox on loopback");

await writeFile(
  join(consumer, "consumer.cjs"),
  `const core = require("@asc-kit/core");
const pem = require("@asc-kit/pem");
const errors = require("@asc-kit/errors");
const installToken = require("@asc-kit/install-token");
for (const [name, value] of Object.entries({ createAppStoreConnectClient: core.createAppStoreConnectClient, normalizePem: pem.normalizePem, toAppStoreConnectError: errors.toAppStoreConnectError, signInstallVerificationToken: installToken.signInstallVerificationToken })) {
  if (typeof value !== "function") throw new Error(name + " did not load through require");
}
console.log("require ok");
`,
);
const required = await run(process.execPath, [join(consumer, "consumer.cjs")]).catch(
  (error: { stderr?: string }) => {
    fail(`CommonJS consumer: require failed on Node ${process.version}:\n${error.stderr ?? error}`);
    return { stdout: "" };
  },
);
if (required.stdout.includes("require ok"))
  console.log(`consumer: CommonJS require works on Node ${process.version}`);

// The library packages in every runtime they claim, against a sandbox that answers pages too.
const { startSandbox } = (await import(
  join(consumer, "node_modules/@asc-kit/sandbox/dist/index.js")
)) as {
  startSandbox(options: { cors: boolean }): Promise<{
    url: string;
    credentials: { keyId: string; issuerId: string; privateKey: string };
    stop(): Promise<void>;
  }>;
};
const runtimeSandbox = await startSandbox({ cors: true });
try {
  const results = await checkRuntimes(
    consumer,
    { url: runtimeSandbox.url, ...runtimeSandbox.credentials },
    join(work, "runtimes"),
  );
  for (const { runtime, outcome, detail } of results) {
    if (outcome === "failed") fail(`runtime ${runtime}: ${detail}`);
    else console.log(`runtime ${runtime}: ${outcome === "ok" ? "ok" : "SKIPPED"}: ${detail}`);
  }
} finally {
  await runtimeSandbox.stop();
}

await rehearseRelease(work, fail).catch((error: unknown) =>
  fail(`release rehearsal: ${error instanceof Error ? error.message : String(error)}`),
);

await rm(work, { recursive: true, force: true });
if (failures > 0) {
  console.error(`${failures} problem${failures === 1 ? "" : "s"} found.`);
  process.exitCode = 1;
} else {
  console.log(`${publicPackages.length} packages ready to publish.`);
}
