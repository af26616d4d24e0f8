/**
 * pnpm spec:diff --from <apple-openapi.json>
 *
 * Compares every operation and schema of the excerpt with Apple's file and prints what differs.
 * Exit 1 on drift, 0 in sync. Prints the upstream info.version and content hash, since Apple
 * has changed the file without changing the version.
 * The same command ships to consumers as `asc-kit-spec diff` (packages/spec).
 */
import { runSpecScript } from "./lib/spec-cli.ts";

await runSpecScript("diff");
