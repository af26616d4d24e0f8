/**
 * pnpm spec:diff --from <apple-openapi.json>
 *
 * Compares every operation and schema of the excerpt with Apple's file and prints what differs.
 * Exit 1 on drift, 0 in sync. Prints the upstream info.version and content hash, since Apple
 * has changed the file without changing the version.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { specFile } from "./lib/paths.ts";
import { contentHash, diffDocuments, operationsOf, parseDocument } from "./lib/spec-tools.ts";

const { values } = parseArgs({
  allowPositionals: false,
  options: { from: { type: "string" }, spec: { type: "string", default: specFile } },
});
if (!values.from) {
  console.error("Usage: pnpm spec:diff --from <apple-openapi.json>");
  process.exit(2);
}
const upstreamText = await readFile(resolve(values.from));
const excerpt = parseDocument(await readFile(resolve(values.spec), "utf8"));
const upstream = parseDocument(upstreamText.toString("utf8"));
console.log(
  `upstream: info.version ${String(upstream.info?.version)}, sha256 ${contentHash(upstreamText)}`,
);
const drifts = diffDocuments(excerpt, upstream);
const checked = `${operationsOf(excerpt).length} operations and ${Object.keys(excerpt.components?.schemas ?? {}).length} schemas`;
if (drifts.length === 0) {
  console.log(`in sync: ${checked} agree with upstream.`);
} else {
  const byItem = new Map<string, typeof drifts>();
  for (const drift of drifts) byItem.set(drift.item, [...(byItem.get(drift.item) ?? []), drift]);
  for (const [item, found] of byItem) {
    console.log(`\n${item}`);
    for (const drift of found) console.log(`  ${drift.kind}: ${drift.detail}`);
  }
  console.log(
    `\ndrift: ${drifts.length} difference${drifts.length === 1 ? "" : "s"} in ${byItem.size} of ${checked}.`,
  );
  process.exitCode = 1;
}
