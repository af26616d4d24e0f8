#!/usr/bin/env node
/**
 * asc-kit-spec: extend asc-kit from your own project.
 *
 *   asc-kit-spec add --from <apple-openapi.json> [--spec asc-kit.yaml] <operationId | "METHOD /path">...
 *   asc-kit-spec generate [--spec asc-kit.yaml] [--out src/asc-kit-paths.ts] [--check]
 *   asc-kit-spec diff --from <apple-openapi.json> [--spec asc-kit.yaml]
 */
import { report, specCli } from "./cli.js";

report(
  await specCli(process.argv.slice(2), {
    names: {
      add: "asc-kit-spec add",
      generate: "asc-kit-spec generate",
      diff: "asc-kit-spec diff",
    },
    spec: "asc-kit.yaml",
    out: "src/asc-kit-paths.ts",
  }),
);
