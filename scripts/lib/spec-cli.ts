import { report, specCli } from "../../packages/spec/src/cli.ts";
import { generatedFile, repoRoot, specFile } from "./paths.ts";

/**
 * Runs one spec command on this repository's excerpt, with the arguments the script was given.
 * Relative paths start where pnpm was run, not at the repository root pnpm runs scripts in.
 */
export async function runSpecScript(command: "add" | "generate" | "diff"): Promise<void> {
  report(
    await specCli([command, ...process.argv.slice(2)], {
      names: { add: "pnpm spec:add", generate: "pnpm generate", diff: "pnpm spec:diff" },
      spec: specFile,
      out: generatedFile,
      cwd: process.env.INIT_CWD ?? process.cwd(),
      root: repoRoot,
    }),
  );
}
