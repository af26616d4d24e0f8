import { fileURLToPath } from "node:url";

/** The repository root, resolved from this file so scripts work from any working directory. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** The OpenAPI excerpt this project maintains. */
export const specFile = fileURLToPath(
  new URL("../../spec/app-store-connect.yaml", import.meta.url),
);

/** Where the typed paths generated from the excerpt are written. */
export const generatedFile = fileURLToPath(
  new URL("../../packages/core/src/generated/app-store-connect.ts", import.meta.url),
);
