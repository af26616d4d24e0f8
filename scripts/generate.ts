/**
 * `pnpm generate` writes the typed paths for the excerpt in spec/, and the sandbox's table of
 * the query parameters each operation declares.
 * `pnpm generate --check` writes nothing and fails, naming the file, when the committed output
 * is stale. `--spec` and `--out` point it at other files (used by its tests); then only the
 * typed paths are written.
 * The typed paths' command ships to consumers as `asc-kit-spec generate` (packages/spec).
 */
import { runSpecScript } from "./lib/spec-cli.ts";
import { writeOperationTable } from "./lib/sandbox-operations.ts";

await runSpecScript("generate");
const args = process.argv.slice(2);
const named = (flag: string) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
if (!named("--spec") && !named("--out") && !named("--help") && !named("-h")) {
  if (!(await writeOperationTable(args.includes("--check")))) process.exitCode = 1;
}
