import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { generateTypes } from "../../../packages/spec/src/codegen.ts";
import { median, times } from "../context.ts";
import type { BenchContext, Section } from "../context.ts";

async function timeGenerate(context: BenchContext, specText: string, repeat: number) {
  const durations: number[] = [];
  for (let index = 0; index < repeat; index++) {
    const start = performance.now();
    await generateTypes(specText, {
      specLabel: "bench",
      formatFor: join(context.repoRoot, "packages/core/src/generated/app-store-connect.ts"),
    });
    durations.push(performance.now() - start);
  }
  return median(durations);
}

/** `pnpm generate`'s work on the excerpt, and on Apple's whole file when given. */
export const codegen: Section<{ excerptMs: number; appleFullFileMs?: number }> = {
  name: "codegen",
  async measure(context) {
    const excerpt = await readFile(join(context.repoRoot, "spec/app-store-connect.yaml"), "utf8");
    const result: { excerptMs: number; appleFullFileMs?: number } = {
      excerptMs: Math.round(await timeGenerate(context, excerpt, 3)),
    };
    if (context.appleSpec) {
      const full = await readFile(context.appleSpec, "utf8");
      result.appleFullFileMs = Math.round(await timeGenerate(context, full, 1));
    }
    context.log("codegen timed");
    return result;
  },
  render(result) {
    return [
      "## Codegen",
      "",
      `- The excerpt (\`pnpm generate\`'s work, median of 3): ${result.excerptMs} ms.`,
      result.appleFullFileMs === undefined
        ? "- Apple's full file: not measured in this run (pass `--apple-spec <path>`)."
        : `- Apple's full file with the same generator: ${result.appleFullFileMs} ms (${times(result.appleFullFileMs, result.excerptMs)} the excerpt).`,
      "- The peers ship generated code for the whole API and have no generation step for their users.",
      "",
    ];
  },
};
