import type { Outcome } from "../../packages/spec/src/commands.ts";

/** Prints a command's outcome and sets the exit code. */
export function report(outcome: Outcome): void {
  for (const line of outcome.out) console.log(line);
  for (const line of outcome.err) console.error(line);
  process.exitCode = outcome.code;
}
