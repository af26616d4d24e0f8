/**
 * `pnpm generate` writes the typed paths for the excerpt in spec/.
 * `pnpm generate --check` writes nothing and fails, naming the file, when the committed output
 * is stale. `--spec` and `--out` point it at other files (used by its tests).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateTypes } from "./lib/codegen.ts";
import { generatedFile, repoRoot, specFile } from "./lib/paths.ts";

const { values } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    spec: { type: "string", default: specFile },
    out: { type: "string", default: generatedFile },
  },
});
const spec = resolve(values.spec);
const out = resolve(values.out);
const show = (file: string) => relative(repoRoot, file);

const generated = await generateTypes(await readFile(spec, "utf8"), {
  specLabel: show(spec),
  formatFor: out,
});
const current = await readFile(out, "utf8").catch(() => undefined);

if (values.check) {
  if (current === generated.source) {
    console.log(`${show(out)} is up to date (spec ${generated.specVersion}).`);
  } else {
    console.error(
      `${show(out)} is ${current === undefined ? "missing" : "stale"}: it does not match what ` +
        `${show(spec)} produces. Run \`pnpm generate\` and commit the result.`,
    );
    process.exitCode = 1;
  }
} else if (current === generated.source) {
  console.log(`${show(out)} was already up to date.`);
} else {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, generated.source);
  console.log(
    `Wrote ${show(out)} (spec ${generated.specVersion}, sha256 ${generated.specSha256.slice(0, 12)}).`,
  );
}
