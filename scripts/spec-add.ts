/**
 * pnpm spec:add --from <apple-openapi.json> <operationId | "METHOD /path"> [...]
 *
 * Adds operations of Apple's full description to the excerpt, with every component they
 * reference, then validates the result before writing it. Idempotent; output in canonical
 * order. Upstream descriptions are dropped unless --keep-descriptions is given.
 * The same command ships to consumers as `asc-kit-spec add` (packages/spec).
 */
import { runSpecScript } from "./lib/spec-cli.ts";

await runSpecScript("add");
