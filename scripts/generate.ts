/**
 * `pnpm generate` writes the typed paths for the excerpt in spec/.
 * `pnpm generate --check` writes nothing and fails, naming the file, when the committed output
 * is stale. `--spec` and `--out` point it at other files (used by its tests).
 * The same command ships to consumers as `asc-kit-spec generate` (packages/spec).
 */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateCommand } from "../packages/spec/src/commands.ts";
import { generatedFile, repoRoot, specFile } from "./lib/paths.ts";
import { report } from "./lib/report.ts";

const { values } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    spec: { type: "string", default: specFile },
    out: { type: "string", default: generatedFile },
  },
});
report(
  await generateCommand({
    spec: resolve(values.spec),
    out: resolve(values.out),
    check: values.check,
    command: "pnpm generate",
    show: (file) => relative(repoRoot, file),
  }),
);
