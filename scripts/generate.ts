/**
 * `pnpm generate` writes the typed paths for the excerpt in spec/.
 * `pnpm generate --check` writes nothing and fails, naming the file, when the committed output
 * is stale. `--spec` and `--out` point it at other files (used by its tests).
 * The same command ships to consumers as `asc-kit-spec generate` (packages/spec).
 */
import { runSpecScript } from "./lib/spec-cli.ts";

await runSpecScript("generate");
