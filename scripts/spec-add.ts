/**
 * pnpm spec:add --from <apple-openapi.json> <operationId | "METHOD /path"> [...]
 *
 * Adds operations of Apple's full description to the excerpt, with every component they
 * reference, then validates the result before writing it. Idempotent; output in canonical
 * order. Upstream descriptions are dropped unless --keep-descriptions is given.
 * The same command ships to consumers as `asc-kit-spec add` (packages/spec).
 */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { addCommand } from "../packages/spec/src/commands.ts";
import { repoRoot, specFile } from "./lib/paths.ts";
import { report } from "./lib/report.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: "string" },
    spec: { type: "string", default: specFile },
    "keep-descriptions": { type: "boolean", default: false },
  },
});
if (!values.from || positionals.length === 0) {
  console.error(
    'Usage: pnpm spec:add --from <apple-openapi.json> <operationId | "METHOD /path"> [...]',
  );
  process.exit(2);
}
report(
  await addCommand({
    from: resolve(values.from),
    spec: resolve(values.spec),
    operations: positionals,
    keepDescriptions: values["keep-descriptions"],
    show: (file) => relative(repoRoot, file),
    next: "pnpm generate",
  }),
);
