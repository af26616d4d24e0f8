/**
 * pnpm spec:diff --from <apple-openapi.json>
 *
 * Compares every operation and schema of the excerpt with Apple's file and prints what differs.
 * Exit 1 on drift, 0 in sync. Prints the upstream info.version and content hash, since Apple
 * has changed the file without changing the version.
 * The same command ships to consumers as `asc-kit-spec diff` (packages/spec).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { diffCommand } from "../packages/spec/src/commands.ts";
import { specFile } from "./lib/paths.ts";
import { report } from "./lib/report.ts";

const { values } = parseArgs({
  allowPositionals: false,
  options: { from: { type: "string" }, spec: { type: "string", default: specFile } },
});
if (!values.from) {
  console.error("Usage: pnpm spec:diff --from <apple-openapi.json>");
  process.exit(2);
}
report(await diffCommand({ from: resolve(values.from), spec: resolve(values.spec) }));
