/**
 * pnpm spec:add --from <apple-openapi.json> <operationId | "METHOD /path"> [...]
 *
 * Adds operations of Apple's full description to the excerpt, with every component they
 * reference, then validates the result before writing it. Idempotent; output in canonical
 * order. Upstream descriptions are dropped unless --keep-descriptions is given.
 */
import { readFile, writeFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { lintErrors } from "./lib/lint.ts";
import { repoRoot, specFile } from "./lib/paths.ts";
import {
  UnknownOperationError,
  addOperations,
  parseDocument,
  serializeDocument,
  unresolvedRefs,
} from "./lib/spec-tools.ts";

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
const target = resolve(values.spec);
const [upstreamText, excerptText] = await Promise.all([
  readFile(resolve(values.from), "utf8"),
  readFile(target, "utf8"),
]);
let updated;
try {
  updated = addOperations(parseDocument(excerptText), parseDocument(upstreamText), positionals, {
    keepDescriptions: values["keep-descriptions"],
  });
} catch (error) {
  if (!(error instanceof UnknownOperationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const dangling = unresolvedRefs(updated);
if (dangling.length > 0) {
  console.error(`Not written: references that resolve to nothing: ${dangling.join(", ")}`);
  process.exit(1);
}
const text = await serializeDocument(updated, target);
const errors = await lintErrors(text, target);
if (errors.length > 0) {
  console.error(`Not written: the result does not pass the lint:\n  ${errors.join("\n  ")}`);
  process.exit(1);
}
const name = relative(repoRoot, target);
if (text === excerptText) {
  console.log(`${name} already has ${positionals.join(", ")}; nothing changed.`);
} else {
  await writeFile(target, text);
  console.log(`Added ${positionals.join(", ")} to ${name}. Next: pnpm generate.`);
}
