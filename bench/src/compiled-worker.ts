import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * A worker of `src/workers`, compiled to plain JavaScript in the scratch folder beside the
 * bench's node_modules (its own modules bundled, packages left to Node): run by Node alone, so
 * that its peak RSS holds no TypeScript loader.
 */
export async function compiledWorker(workDir: string, name: string): Promise<string> {
  const outfile = join(workDir, `${name}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url))],
    outfile,
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  return outfile;
}
