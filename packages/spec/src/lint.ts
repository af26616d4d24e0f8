import { lintFromString, loadConfig } from "@redocly/openapi-core";
import { shippedFile } from "./format.js";

/** Lints OpenAPI text with the excerpt's Redocly rules; returns the errors, one line each. */
export async function lintErrors(source: string, absoluteRef: string): Promise<string[]> {
  const config = await loadConfig({
    configPath: shippedFile("redocly.yaml"),
  });
  const problems = await lintFromString({ source, absoluteRef, config });
  return problems
    .filter((problem) => problem.severity === "error")
    .map(
      (problem) => `${problem.ruleId}: ${problem.message} (${problem.location[0]?.pointer ?? "?"})`,
    );
}
