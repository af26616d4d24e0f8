// Ships asc-kit's own excerpt and lint rules, so that a consumer's excerpt starts as a superset.
import { copyFile, mkdir } from "node:fs/promises";

await mkdir(new URL("dist/", import.meta.url), { recursive: true });
for (const name of ["app-store-connect.yaml", "redocly.yaml"]) {
  await copyFile(
    new URL(`../../spec/${name}`, import.meta.url),
    new URL(`dist/${name}`, import.meta.url),
  );
}
