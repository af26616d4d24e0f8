// Runs the smoke test from a command line (Node.js, Deno, Bun): the sandbox's details as JSON
// in the first argument; prints "ok: …" or "failed: …" and sets the exit code.
import { smoke } from "./smoke.js";

const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";
const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
try {
  console.log(`ok: ${await smoke(JSON.parse(args[0]))}`);
} catch (error) {
  console.log(`failed on ${runtime}: ${error?.stack ?? error}`);
  if (globalThis.Deno) globalThis.Deno.exit(1);
  globalThis.process.exitCode = 1;
}
