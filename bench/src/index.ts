/**
 * pnpm bench: asc-kit beside the clients people use today, every figure measured for all of
 * them in the same run and reported as ratios, into bench/RESULTS.md and bench/results.json.
 *
 *   pnpm bench [--requests 3000] [--rounds 5] [--apple-spec <Apple's openapi.json>]
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { createTokenProvider } from "@asc-kit/core";
import { createInstallTokenSigner, signInstallVerificationToken } from "@asc-kit/install-token";
import { generateKeyPair } from "@asc-kit/pem";
import { build } from "esbuild";
import { generateTypes } from "../../packages/spec/src/codegen.ts";
import { createListCall } from "./clients.ts";
import type { ClientName, ListCall, Target } from "./clients.ts";
import { ensurePeers, peersDir } from "./peers.ts";
import { startListServer } from "./server.ts";

const run = promisify(execFile);
const { values } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "3000" },
    rounds: { type: "string", default: "7" },
    concurrency: { type: "string", default: "32" },
    "apple-spec": { type: "string" },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const benchDir = fileURLToPath(new URL("../", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const workDir = join(benchDir, ".work");
const sdk = "appstore-connect-sdk@2.0.0";
const rage = "@rage-against-the-pixel/app-store-connect-api@4.4.1";
const libraries = ["asc-kit", sdk, rage] as const satisfies readonly ClientName[];
const median = (numbers: number[]) =>
  [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
const log = (message: string) => console.error(`bench: ${message}`);

await ensurePeers();
await rm(workDir, { recursive: true, force: true });
await mkdir(workDir, { recursive: true });
const results: Record<string, unknown> = {
  machine: {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()}`,
  },
  node: process.version,
  date: new Date().toISOString(),
};

// 1 and 2: signatures for 1,000 concurrent requests, then throughput, against one server.
const server = await startListServer();
const { privateKeyPem } = await generateKeyPair();
const target: Target = {
  baseUrl: server.url,
  keyId: "BENCHKEY01",
  issuerId: "57246542-96fe-1a63-e053-0824d011072a",
  privateKey: privateKeyPem,
  token: "",
};
target.token = await createTokenProvider(target).getToken();
const clientNames: ClientName[] = ["raw fetch", "openapi-fetch alone", ...libraries];
const calls = new Map<ClientName, ListCall>();
const signatures: Record<string, number> = {};
for (const name of clientNames) {
  const call = await createListCall(name, target);
  calls.set(name, call);
  if (!(libraries as readonly string[]).includes(name)) continue;
  await server.takeTokenCount();
  await Promise.all(Array.from({ length: 1000 }, () => call()));
  signatures[name] = await server.takeTokenCount();
  log(`${name}: ${signatures[name]} signature(s) for 1,000 concurrent requests`);
}
results.signatures = signatures;

async function requestsPerSecond(call: ListCall): Promise<number> {
  let started = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < requests) {
        started++;
        await call();
      }
    }),
  );
  return requests / ((performance.now() - start) / 1000);
}
for (const call of calls.values()) await requestsPerSecond(call); // warm-up
const perSecond = new Map<ClientName, number[]>(clientNames.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  // Each round starts with another client, so no client always runs first or last.
  const order = [...calls].map((_, index, all) => all[(index + round) % all.length]!);
  for (const [name, call] of order) perSecond.get(name)!.push(await requestsPerSecond(call));
}
await server.close();
const rawMedian = median(perSecond.get("raw fetch")!);
results.throughput = Object.fromEntries(
  clientNames.map((name) => [
    name,
    {
      requestsPerSecond: Math.round(median(perSecond.get(name)!)),
      ofRawFetch: median(perSecond.get(name)!) / rawMedian,
    },
  ]),
);
log("throughput measured");

// 3: bundle size of a minimal consumer that creates a client and makes one call.
const consumers: Record<string, { dir: string; source: string }> = {
  "asc-kit": {
    dir: workDir,
    source: `import { createAppStoreConnectClient } from "@asc-kit/core";
const client = createAppStoreConnectClient({ keyId: "K", issuerId: "I", privateKey: process.env.KEY });
console.log(await client.GET("/v1/alternativeDistributionKeys"));`,
  },
  "openapi-fetch alone": {
    dir: workDir,
    source: `import createClient from "openapi-fetch";
const client = createClient({ baseUrl: "https://api.appstoreconnect.apple.com", headers: { Authorization: "Bearer " + process.env.TOKEN } });
console.log(await client.GET("/v1/alternativeDistributionKeys"));`,
  },
  [sdk]: {
    dir: peersDir,
    source: `import { createClient, alternativeDistributionKeysGetCollection } from "appstore-connect-sdk";
const client = createClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY });
console.log(await alternativeDistributionKeysGetCollection({ client }));`,
  },
  [rage]: {
    dir: peersDir,
    source: `import { AppStoreConnectClient } from "@rage-against-the-pixel/app-store-connect-api";
const client = new AppStoreConnectClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY });
console.log(await client.api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({}));`,
  },
};
const bundles: Record<string, { minifiedBytes: number; gzippedBytes: number }> = {};
for (const [name, consumer] of Object.entries(consumers)) {
  const entry = join(consumer.dir, `bundle-${name.replace(/[^a-z0-9]+/gi, "-")}.mjs`);
  await writeFile(entry, consumer.source);
  const output = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "silent",
  });
  const code = output.outputFiles[0]!.contents;
  bundles[name] = { minifiedBytes: code.length, gzippedBytes: gzipSync(code, { level: 9 }).length };
  await rm(entry);
}
results.bundle = bundles;
log("bundles measured");

// 4: install footprint of each package alone in an empty folder.
async function directorySize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}
async function installAlone(label: string, specs: string[]): Promise<number> {
  const dir = join(workDir, `install-${label.replace(/[^a-z0-9]+/gi, "-")}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "footprint", private: true }));
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev", ...specs],
    { cwd: dir },
  );
  return directorySize(join(dir, "node_modules"));
}
const tarballs = join(workDir, "tarballs");
await mkdir(tarballs, { recursive: true });
for (const name of ["core", "pem", "errors"]) {
  await run("pnpm", ["pack", "--pack-destination", tarballs], {
    cwd: join(repoRoot, "packages", name),
  });
}
const footprint: Record<string, number> = {
  "asc-kit (@asc-kit/core)": await installAlone(
    "asc-kit",
    (await readdir(tarballs)).map((file) => join(tarballs, file)),
  ),
  "openapi-fetch alone": await installAlone("openapi-fetch", ["openapi-fetch@0.17.0"]),
  [sdk]: await installAlone("sdk", ["appstore-connect-sdk@2.0.0"]),
  [rage]: await installAlone("rage", ["@rage-against-the-pixel/app-store-connect-api@4.4.1"]),
};
results.installFootprintBytes = footprint;
log("install footprints measured");

// 5: consumer type-check cost of the same four calls.
const fourCalls: Record<string, { dir: string; source: string }> = {
  "asc-kit": {
    dir: workDir,
    source: `import { createAppStoreConnectClient } from "@asc-kit/core";
const client = createAppStoreConnectClient({ keyId: "K", issuerId: "I", privateKey: "P" });
const list = await client.GET("/v1/alternativeDistributionKeys", { params: { query: { limit: 10 } } });
const one = await client.GET("/v1/alternativeDistributionKeys/{id}", { params: { path: { id: "x" } } });
const created = await client.POST("/v1/alternativeDistributionKeys", { body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "p" } } } });
await client.DELETE("/v1/alternativeDistributionKeys/{id}", { params: { path: { id: created.data?.data.id ?? "" } } });
export const ids = [list.data?.data[0]?.id, one.data?.data.id];`,
  },
  [sdk]: {
    dir: peersDir,
    source: `import { createClient, alternativeDistributionKeysGetCollection, alternativeDistributionKeysGetInstance, alternativeDistributionKeysCreateInstance, alternativeDistributionKeysDeleteInstance } from "appstore-connect-sdk";
const client = createClient({ issuerId: "I", privateKeyId: "K", privateKey: "P" });
const list = await alternativeDistributionKeysGetCollection({ client, query: { limit: 10 } });
const one = await alternativeDistributionKeysGetInstance({ client, path: { id: "x" } });
const created = await alternativeDistributionKeysCreateInstance({ client, body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "p" } } } });
await alternativeDistributionKeysDeleteInstance({ client, path: { id: created.data?.data.id ?? "" } });
export const ids = [list.data?.data[0]?.id, one.data?.data.id];`,
  },
  [rage]: {
    dir: peersDir,
    source: `import { AppStoreConnectClient } from "@rage-against-the-pixel/app-store-connect-api";
const { api } = new AppStoreConnectClient({ issuerId: "I", privateKeyId: "K", privateKey: "P" });
const list = await api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({ query: { limit: 10 } });
const one = await api.AlternativeDistributionKeys.alternativeDistributionKeysGetInstance({ path: { id: "x" } });
const created = await api.AlternativeDistributionKeys.alternativeDistributionKeysCreateInstance({ body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "p" } } } });
await api.AlternativeDistributionKeys.alternativeDistributionKeysDeleteInstance({ path: { id: created.data?.data.id ?? "" } });
export const ids = [list.data?.data[0]?.id, one.data?.data.id];`,
  },
};
const typecheck: Record<string, Record<string, number>> = {};
const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
for (const [name, consumer] of Object.entries(fourCalls)) {
  const dir = join(consumer.dir, `typecheck-${name.replace(/[^a-z0-9]+/gi, "-")}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "calls.ts"), consumer.source);
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        lib: ["ES2023", "DOM"],
        types: [],
      },
      files: ["calls.ts"],
    }),
  );
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const { stdout } = await run(process.execPath, [tsc, "-p", dir, "--extendedDiagnostics"]).catch(
    (error: { stdout: string }) => error,
  );
  const read = (label: string) =>
    Number(new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(stdout)?.[1] ?? Number.NaN);
  typecheck[name] = {
    types: read("Types"),
    instantiations: read("Instantiations"),
    memoryKiB: read("Memory used"),
    checkSeconds: read("Check time"),
    totalSeconds: read("Total time"),
  };
}
results.typecheck = typecheck;
log("type-check costs measured");

// 6: codegen.
async function timeGenerate(specText: string, repeat: number): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < repeat; index++) {
    const start = performance.now();
    await generateTypes(specText, {
      specLabel: "bench",
      formatFor: join(repoRoot, "packages/core/src/generated/app-store-connect.ts"),
    });
    times.push(performance.now() - start);
  }
  return median(times);
}
const codegen: Record<string, number> = {
  excerptMs: Math.round(
    await timeGenerate(await readFile(join(repoRoot, "spec/app-store-connect.yaml"), "utf8"), 3),
  ),
};
if (values["apple-spec"])
  codegen.appleFullFileMs = Math.round(
    await timeGenerate(await readFile(values["apple-spec"], "utf8"), 1),
  );
results.codegen = codegen;
log("codegen timed");

// 7: cold start: a fresh process imports the client, creates it and makes its first call.
const coldServer = await startListServer();
const coldScripts: Record<string, { dir: string; source: string }> = {
  "node alone": { dir: workDir, source: "" },
  "asc-kit": {
    dir: workDir,
    source: `import { createAppStoreConnectClient } from "@asc-kit/core";
const client = createAppStoreConnectClient({ keyId: "K", issuerId: "57246542-96fe-1a63-e053-0824d011072a", privateKey: process.env.KEY, baseUrl: process.env.URL });
await client.GET("/v1/alternativeDistributionKeys");`,
  },
  [sdk]: {
    dir: peersDir,
    source: `import { createClient, alternativeDistributionKeysGetCollection } from "appstore-connect-sdk";
const client = createClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY, baseUrl: process.env.URL });
await alternativeDistributionKeysGetCollection({ client });`,
  },
  [rage]: {
    dir: peersDir,
    source: `import { AppStoreConnectClient } from "@rage-against-the-pixel/app-store-connect-api";
import generated from "@rage-against-the-pixel/app-store-connect-api/dist/app_store_connect_api/client.gen.js";
const client = new AppStoreConnectClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY });
generated.client.setConfig({ baseUrl: process.env.URL });
await client.api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({});`,
  },
};
const coldStart: Record<string, number> = {};
for (const [name, script] of Object.entries(coldScripts)) {
  const file = join(script.dir, `cold-${name.replace(/[^a-z0-9]+/gi, "-")}.mjs`);
  await writeFile(file, script.source);
  const times: number[] = [];
  for (let index = 0; index < 7; index++) {
    const start = performance.now();
    await run(process.execPath, [file], {
      env: { ...process.env, KEY: privateKeyPem, URL: coldServer.url },
    });
    times.push(performance.now() - start);
  }
  coldStart[name] = Math.round(median(times));
  await rm(file);
}
await coldServer.close();
results.coldStartMs = coldStart;
log("cold starts measured");

// 8: install verification tokens, a reused signer against a key import per token.
const signer = createInstallTokenSigner({
  privateKey: privateKeyPem,
  keyId: "k",
  appleItemId: "6476788026",
});
const tokenRequest = { bundleId: "com.example.app", downloadType: "download" as const };
async function tokensPerSecond(sign: () => Promise<string>): Promise<number> {
  const start = performance.now();
  for (let index = 0; index < 1000; index++) await sign();
  return 1000 / ((performance.now() - start) / 1000);
}
await tokensPerSecond(() => signer.sign(tokenRequest));
const reused = await tokensPerSecond(() => signer.sign(tokenRequest));
const importEach = await tokensPerSecond(() =>
  signInstallVerificationToken({
    privateKey: privateKeyPem,
    keyId: "k",
    appleItemId: "6476788026",
    ...tokenRequest,
  }),
);
results.installTokens = {
  reusedSignerPerSecond: Math.round(reused),
  importPerTokenPerSecond: Math.round(importEach),
  ratio: reused / importEach,
};

await writeFile(join(benchDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(join(benchDir, "RESULTS.md"), renderMarkdown());
await rm(workDir, { recursive: true, force: true });
log("wrote bench/RESULTS.md and bench/results.json");

function renderMarkdown(): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
  const machine = results.machine as {
    cpu: string;
    cores: number;
    memoryGiB: number;
    platform: string;
  };
  const lines = [
    "# Benchmark results",
    "",
    `Measured by \`pnpm bench\` on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}), Node ${process.version}, ${String(results.date)}. Every figure was measured for every client in this one run; ratios are against asc-kit unless the column says otherwise. Peers: ${sdk} and ${rage}.`,
    "",
    `## Throughput (${requests} requests × ${rounds} rounds, concurrency ${concurrency}, a loopback server in its own process answering like the list endpoint; median of rounds)`,
    "",
    "| client | requests/s | of raw fetch |",
    "| --- | ---: | ---: |",
    ...clientNames.map(
      (name) =>
        `| ${name} | ${Math.round(median(perSecond.get(name)!))} | ${(median(perSecond.get(name)!) / rawMedian).toFixed(3)} |`,
    ),
    "",
    `Target: asc-kit at least 0.95 of raw fetch. Rounds of asc-kit: ${perSecond
      .get("asc-kit")!
      .map((value) => Math.round(value))
      .join(", ")}; of raw fetch: ${perSecond
      .get("raw fetch")!
      .map((value) => Math.round(value))
      .join(", ")}.`,
    "",
    "## Signatures for 1,000 concurrent requests (target: 1)",
    "",
    "| client | signatures |",
    "| --- | ---: |",
    ...Object.entries(signatures).map(([name, count]) => `| ${name} | ${count} |`),
    "",
    "## Bundle size of a minimal consumer (create a client, make one call; esbuild, minified, gzip -9)",
    "",
    "| client | minified | gzipped | gzipped vs asc-kit |",
    "| --- | ---: | ---: | ---: |",
    ...Object.entries(bundles).map(
      ([name, size]) =>
        `| ${name} | ${kb(size.minifiedBytes)} | ${kb(size.gzippedBytes)} | ${ratio(size.gzippedBytes, bundles["asc-kit"]!.gzippedBytes)} |`,
    ),
    "",
    "Target: asc-kit at most 10 kB gzipped.",
    "",
    "## Install footprint (node_modules after installing the package alone into an empty folder)",
    "",
    "| package | node_modules | vs asc-kit |",
    "| --- | ---: | ---: |",
    ...Object.entries(footprint).map(
      ([name, bytes]) =>
        `| ${name} | ${mb(bytes)} | ${ratio(bytes, footprint["asc-kit (@asc-kit/core)"]!)} |`,
    ),
    "",
    "Target: asc-kit core under 2 MB.",
    "",
    "## Consumer type-check cost (the same four calls: list, get, create, delete; `tsc --noEmit --extendedDiagnostics`)",
    "",
    "| client | types | instantiations | memory | check time | total time | total vs asc-kit |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...Object.entries(typecheck).map(
      ([name, cost]) =>
        `| ${name} | ${cost.types} | ${cost.instantiations} | ${((cost.memoryKiB ?? 0) / 1024).toFixed(0)} MB | ${cost.checkSeconds} s | ${cost.totalSeconds} s | ${ratio(cost.totalSeconds!, typecheck["asc-kit"]!.totalSeconds!)} |`,
    ),
    "",
    "## Codegen",
    "",
    `- The excerpt (\`pnpm generate\`'s work, median of 3): ${codegen.excerptMs} ms.`,
    codegen.appleFullFileMs === undefined
      ? "- Apple's full file: not measured in this run (pass `--apple-spec <path>`)."
      : `- Apple's full file with the same generator: ${codegen.appleFullFileMs} ms (${ratio(codegen.appleFullFileMs, codegen.excerptMs!)} the excerpt).`,
    "- The peers ship generated code for the whole API and have no generation step for their users.",
    "",
    "## Cold start (a fresh process imports the client, creates it, makes its first call to a loopback server; median of 7)",
    "",
    "| client | wall time | vs asc-kit |",
    "| --- | ---: | ---: |",
    ...Object.entries(coldStart).map(
      ([name, ms]) => `| ${name} | ${ms} ms | ${ratio(ms, coldStart["asc-kit"]!)} |`,
    ),
    "",
    "## Install verification tokens (1,000 tokens, one after another)",
    "",
    `- Reused signer (key imported once): ${Math.round(reused)} tokens/s; key imported for each token: ${Math.round(importEach)} tokens/s; ratio ${(reused / importEach).toFixed(2)}.`,
    "",
  ];
  return lines.join("\n");
}
