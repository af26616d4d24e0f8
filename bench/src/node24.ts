import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { run } from "./context.ts";

/** Where Node.js 24 is installed for the bench, from npm's `node@24` as CI installs it. */
const prefix = fileURLToPath(new URL("../.node24/", import.meta.url));
const binary = `${prefix}node_modules/.bin/node`;

/**
 * On a Node.js older than 24, runs the bench again on Node.js 24 (installed once) with the same
 * arguments and this Node.js as a further row, and exits with its code. On Node.js 24 or later,
 * returns: the bench runs here.
 */
export async function onNode24(entry: string): Promise<void> {
  if (Number(process.versions.node.split(".")[0]) >= 24) return;
  if (!existsSync(binary)) {
    console.error("bench: installing Node.js 24 from npm (node@24) into bench/.node24, once");
    const install = () =>
      run("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
        prefix,
        "node@24",
      ]);
    await install().catch(install);
  }
  const args = ["--import", "tsx", entry, ...process.argv.slice(2), "--node", process.execPath];
  const child = spawn(binary, args, { stdio: "inherit" });
  const code = await new Promise<number>((resolve) =>
    child.on("close", (exit, signal) => resolve(exit ?? (signal ? 1 : 0))),
  );
  process.exit(code);
}
