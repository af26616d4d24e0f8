/**
 * pnpm bench: asc-kit beside the clients people use today, every figure measured for all of
 * them in the same run and reported as ratios with the spread of rounds, into bench/RESULTS.md
 * and bench/results.json. One module per figure in `sections/`.
 *
 *   pnpm bench [--requests 3000] [--rounds 7] [--apple-spec <Apple's openapi.json>]
 *   pnpm bench --only overhead,download   (prints those figures; writes nothing)
 *   pnpm bench --node /path/to/node22/bin/node   (per call and throughput on that Node.js too)
 *   pnpm bench --this-node   (on the Node.js that runs it, rather than Node.js 24)
 *
 * The bench's main runtime is Node.js 24, installed from npm as CI's runtime matrix installs it
 * (bench/.node24, once): started on an older Node.js, it runs itself again on Node.js 24 and
 * adds the Node.js it was started on as a row (`--node`).
 *
 * `--rounds` is a floor: where clients share a round, their rounds run in whole passes of a
 * balanced order (see `balanced` in context.ts), so a section may run a few more.
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateKeyPair } from "@asc-kit/pem";
import { onNode24 } from "./node24.ts";
import { run } from "./context.ts";
import type { BenchContext, Section } from "./context.ts";
import { ensurePeers } from "./peers.ts";
import { bundle } from "./sections/bundle.ts";
import { codegen } from "./sections/codegen.ts";
import { coldStart } from "./sections/coldstart.ts";
import { download } from "./sections/download.ts";
import { footprint } from "./sections/footprint.ts";
import { marketplace } from "./sections/marketplace.ts";
import { overhead } from "./sections/overhead.ts";
import { serve } from "./sections/serve.ts";
import { throughput } from "./sections/throughput.ts";
import { tokens } from "./sections/tokens.ts";
import { typecheck } from "./sections/typecheck.ts";

const sections: Section<any>[] = [
  overhead,
  throughput,
  bundle,
  coldStart,
  download,
  footprint,
  typecheck,
  codegen,
  tokens,
  serve,
  marketplace,
];

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "3000" },
    rounds: { type: "string", default: "7" },
    concurrency: { type: "string", default: "32" },
    "apple-spec": { type: "string" },
    only: { type: "string" },
    node: { type: "string", multiple: true, default: [] },
    "this-node": { type: "boolean", default: false },
  },
});
if (!values["this-node"]) await onNode24(fileURLToPath(import.meta.url));
const only = values.only?.split(",");
const unknown = only?.filter((name) => !sections.some((section) => section.name === name));
if (unknown?.length) {
  console.error(
    `bench: no section ${unknown.join(", ")}; sections: ${sections.map((section) => section.name).join(", ")}`,
  );
  process.exit(2);
}
/**
 * A path given on the command line, resolved from where pnpm was run (pnpm runs the bench in
 * bench/); the bench stops with 2 when nothing is there.
 */
function givenPath(flag: string, path: string): string {
  const resolved = resolve(process.env.INIT_CWD ?? process.cwd(), path);
  if (!existsSync(resolved)) {
    console.error(`bench: --${flag} ${resolved} does not exist`);
    process.exit(2);
  }
  return resolved;
}
const appleSpec = values["apple-spec"] ? givenPath("apple-spec", values["apple-spec"]) : undefined;
const otherNodes = values.node.map((path) => givenPath("node", path));
const benchDir = fileURLToPath(new URL("../", import.meta.url));
const context: BenchContext = {
  benchDir,
  repoRoot: fileURLToPath(new URL("../../", import.meta.url)),
  workDir: join(benchDir, ".work"),
  requests: Number(values.requests),
  rounds: Number(values.rounds),
  concurrency: Number(values.concurrency),
  ...(appleSpec ? { appleSpec } : {}),
  otherNodes,
  privateKeyPem: (await generateKeyPair()).privateKeyPem,
  log: (message) => console.error(`bench: ${message}`),
};

await ensurePeers();
await rm(context.workDir, { recursive: true, force: true });
await mkdir(context.workDir, { recursive: true });
const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.arch()}`,
};
const results: Record<string, unknown> = {
  machine,
  node: process.version,
  date: new Date().toISOString(),
};
const markdown: string[] = [];
for (const section of sections) {
  if (only && !only.includes(section.name)) continue;
  const result = await section.measure(context);
  results[section.name] = result;
  markdown.push(...section.render(result, context));
}
await rm(context.workDir, { recursive: true, force: true });

if (only) {
  console.log(markdown.join("\n"));
} else {
  const header = [
    "# Benchmark results",
    "",
    `Measured by \`pnpm bench\` on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}), Node ${process.version}, ${String(results.date)}. Every figure was measured for every client in this one run; ratios are against asc-kit unless the column says otherwise. Peers: appstore-connect-sdk@2.0.0 and @rage-against-the-pixel/app-store-connect-api@4.4.1. Spreads are the lowest and highest round against the median.`,
    "",
  ];
  await writeFile(join(benchDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(benchDir, "RESULTS.md"), [...header, ...markdown].join("\n"));
  // Formatted as the repository formats everything, so that they can be committed as written.
  await run(process.execPath, [
    join(context.repoRoot, "node_modules/prettier/bin/prettier.cjs"),
    "--write",
    join(benchDir, "RESULTS.md"),
    join(benchDir, "results.json"),
  ]);
  context.log("wrote bench/RESULTS.md and bench/results.json");
}
