import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateTypes } from "../../../packages/spec/src/codegen.ts";
import { upstreamWithApps } from "../../../packages/spec/src/test-support/journey.ts";
import { median, run, times } from "../context.ts";
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

interface CodegenResult {
  excerptMs: number;
  appleFullFileMs?: number;
  /** The built `asc-kit-spec`, as a process from start to exit: median ms. */
  specTool: { helpMs: number; addMs: number; appleAddMs?: number; appleAddNoIncludeMs?: number };
}

/** Wall time of a process, median of `repeat`; `before` runs untimed ahead of each. */
async function timeProcess(
  args: string[],
  repeat: number,
  before: () => Promise<void> = async () => undefined,
) {
  const durations: number[] = [];
  for (let index = 0; index < repeat; index++) {
    await before();
    const start = performance.now();
    await run(process.execPath, args);
    durations.push(performance.now() - start);
  }
  return Math.round(median(durations));
}

/** `asc-kit-spec --help`, and `add` of one operation into a copy of asc-kit's excerpt. */
async function timeSpecTool(context: BenchContext, excerpt: string) {
  const bin = join(context.repoRoot, "packages/spec/dist/bin.js");
  const spec = join(context.workDir, "excerpt.yaml");
  const fresh = () => writeFile(spec, excerpt);
  const upstream = join(context.workDir, "upstream.json");
  await writeFile(upstream, upstreamWithApps(excerpt));
  const add = (from: string, ...more: string[]) => [
    bin,
    ...["add", "--from", from, "--spec", spec, ...more, "apps_getCollection"],
  ];
  const result: CodegenResult["specTool"] = {
    helpMs: await timeProcess([bin, "--help"], 5),
    addMs: await timeProcess(add(upstream), 5, fresh),
  };
  if (context.appleSpec) {
    const apple = join(context.workDir, "apple.json");
    await copyFile(context.appleSpec, apple);
    result.appleAddMs = await timeProcess(add(apple), 3, fresh);
    result.appleAddNoIncludeMs = await timeProcess(add(apple, "--no-include"), 3, fresh);
  }
  return result;
}

/** `pnpm generate`'s work on the excerpt, and on Apple's whole file when given; the spec tool. */
export const codegen: Section<CodegenResult> = {
  name: "codegen",
  async measure(context) {
    const excerpt = await readFile(join(context.repoRoot, "spec/app-store-connect.yaml"), "utf8");
    const result: CodegenResult = {
      excerptMs: Math.round(await timeGenerate(context, excerpt, 3)),
      specTool: await timeSpecTool(context, excerpt),
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
      `The spec tool, built (\`node packages/spec/dist/bin.js\`, on ${process.version}), each a process from start to exit:`,
      "",
      "| command | now (median) | before |",
      "| --- | ---: | ---: |",
      `| \`asc-kit-spec --help\` (5 runs) | ${result.specTool.helpMs} ms | 1.2 s |`,
      `| \`add apps_getCollection\` from asc-kit's excerpt plus \`/v1/apps\` (5 runs) | ${result.specTool.addMs} ms | — |`,
      result.specTool.appleAddMs === undefined
        ? "| `add apps_getCollection` from Apple's whole file | not measured (`--apple-spec`) | 4.2 s |"
        : `| \`add apps_getCollection\` from Apple's whole file (3 runs) | ${result.specTool.appleAddMs} ms | 4.2 s |`,
      ...(result.specTool.appleAddNoIncludeMs === undefined
        ? []
        : [
            `| the same with \`--no-include\` (3 runs) | ${result.specTool.appleAddNoIncludeMs} ms | — |`,
          ]),
      "",
      "Before: as reported on a machine of the same kind, through `pnpm spec:add` and `pnpm` (which add tsx's start-up, some 0.5 s here); two weeks before that report, `add` of one operation took 1.3 to 1.7 s. The target is under 0.2 s for `--help` and under 2 s for `add`.",
      "",
    ];
  },
};
