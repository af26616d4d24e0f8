/**
 * The spec tooling of asc-kit as functions, for build scripts; `asc-kit-spec` is the command.
 *
 * @example
 * ```ts
 * import { addCommand, generateCommand } from "@asc-kit/spec";
 *
 * await addCommand({ from: "openapi.oas.json", spec: "asc-kit.yaml", operations: ["apps_getCollection"] });
 * await generateCommand({ spec: "asc-kit.yaml", out: "src/asc-kit-paths.ts", command: "node build.js" });
 * ```
 */
export { addCommand, diffCommand, generateCommand } from "./commands.js";
export { UnknownIncludeError } from "./includes.js";
export type { Outcome } from "./commands.js";
export {
  addOperations,
  diffDocuments,
  findOperation,
  operationsOf,
  parseDocument,
  serializeDocument,
  suggestOperations,
  UnknownOperationError,
} from "./spec-tools.js";
export type { Document, Drift, OperationRef } from "./spec-tools.js";
export { generateTypes, hashSpecText } from "./codegen.js";
