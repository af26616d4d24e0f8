#!/usr/bin/env node
/**
 * asc-kit-spec: extend asc-kit from your own project.
 *
 *   asc-kit-spec add --from <apple-openapi.json> [--spec asc-kit.yaml] <operationId | "METHOD /path">...
 *   asc-kit-spec generate [--spec asc-kit.yaml] [--out src/asc-kit-paths.ts] [--check]
 *   asc-kit-spec diff --from <apple-openapi.json> [--spec asc-kit.yaml]
 */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { addCommand, diffCommand, generateCommand } from "./commands.js";
import type { Outcome } from "./commands.js";

const usage = `Usage:
  asc-kit-spec add --from <apple-openapi.json> [--spec asc-kit.yaml] <operationId | "METHOD /path">...
  asc-kit-spec generate [--spec asc-kit.yaml] [--out src/asc-kit-paths.ts] [--check]
  asc-kit-spec diff --from <apple-openapi.json> [--spec asc-kit.yaml]`;

const [command, ...rest] = process.argv.slice(2);
let outcome: Outcome;
try {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: command === "add",
    options: {
      from: { type: "string" },
      spec: { type: "string", default: "asc-kit.yaml" },
      out: { type: "string", default: "src/asc-kit-paths.ts" },
      check: { type: "boolean", default: false },
      "keep-descriptions": { type: "boolean", default: false },
    },
  });
  const spec = resolve(values.spec);
  const show = (file: string) => relative(process.cwd(), file);
  if (command === "add" && values.from && positionals.length > 0) {
    outcome = await addCommand({
      from: resolve(values.from),
      spec,
      operations: positionals,
      keepDescriptions: values["keep-descriptions"],
      show,
      next: "asc-kit-spec generate",
    });
  } else if (command === "generate") {
    outcome = await generateCommand({
      spec,
      out: resolve(values.out),
      check: values.check,
      command: "asc-kit-spec generate",
      show,
    });
  } else if (command === "diff" && values.from) {
    outcome = await diffCommand({ from: resolve(values.from), spec });
  } else {
    outcome = { code: 2, out: [], err: [usage] };
  }
} catch (error) {
  const code = (error as { code?: unknown }).code;
  const message =
    code === "ENOENT"
      ? `No such file: ${(error as { path?: string }).path ?? "?"}`
      : error instanceof Error
        ? error.message
        : String(error);
  outcome = { code: code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? 2 : 1, out: [], err: [message] };
}
for (const line of outcome.out) console.log(line);
for (const line of outcome.err) console.error(line);
process.exitCode = outcome.code;
