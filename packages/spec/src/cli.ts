import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Outcome } from "./commands.js";

/** How the spec commands are named and where their files are, for the command line at hand. */
export interface SpecCliSetting {
  /** How each command is run, for the usage and the next-step hints. */
  names: { add: string; generate: string; diff: string };
  /** The excerpt and the generated file when `--spec` and `--out` are not given. */
  spec: string;
  out: string;
  /** What relative paths in the arguments start from. Default the working directory. */
  cwd?: string;
  /** What file names in messages are relative to. Default `cwd`. */
  root?: string;
}

/**
 * Runs `add`, `generate` or `diff` from command-line arguments (the command first). Bad
 * arguments and missing files are an outcome with the usage, never a stack trace.
 */
export async function specCli(argv: readonly string[], setting: SpecCliSetting): Promise<Outcome> {
  const { names } = setting;
  const usage = [
    "Usage:",
    `  ${names.add} --from <apple-openapi.json> [--spec <excerpt.yaml>] [--include <a,b> | --no-include] <operationId | "METHOD /path">...`,
    `  ${names.generate} [--spec <excerpt.yaml>] [--out <paths.ts>] [--check]`,
    `  ${names.diff} --from <apple-openapi.json> [--spec <excerpt.yaml>]`,
  ].join("\n");
  const [command, ...rest] = argv;
  if (command === "help" || argv.includes("--help") || argv.includes("-h")) {
    return { code: 0, out: [usage], err: [] };
  }
  try {
    // Loaded when a command runs: the help answers without the YAML, lint and codegen modules.
    const { addCommand, diffCommand, generateCommand } = await import("./commands.js");
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: command === "add",
      options: {
        from: { type: "string" },
        spec: { type: "string", default: setting.spec },
        out: { type: "string", default: setting.out },
        check: { type: "boolean", default: false },
        "keep-descriptions": { type: "boolean", default: false },
        include: { type: "string" },
        "no-include": { type: "boolean", default: false },
      },
    });
    const cwd = setting.cwd ?? process.cwd();
    const path = (file: string) => resolve(cwd, file);
    const spec = path(values.spec);
    const root = setting.root ?? cwd;
    const show = (file: string) => relative(root, file);
    if (command === "add" && values["no-include"] && values.include !== undefined) {
      return { code: 2, out: [], err: ["Give --include <a,b> or --no-include, not both.", usage] };
    }
    if (command === "add" && values.from && positionals.length > 0) {
      return await addCommand({
        from: path(values.from),
        spec,
        operations: positionals,
        keepDescriptions: values["keep-descriptions"],
        ...(values["no-include"]
          ? { include: [] }
          : values.include !== undefined
            ? { include: values.include.split(",").filter(Boolean) }
            : {}),
        show,
        next: names.generate,
      });
    }
    if (command === "generate") {
      return await generateCommand({
        spec,
        out: path(values.out),
        check: values.check,
        command: names.generate,
        show,
      });
    }
    if (command === "diff" && values.from) {
      return await diffCommand({ from: path(values.from), spec });
    }
    return { code: 2, out: [], err: [usage] };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      return { code: 2, out: [], err: [(error as Error).message, usage] };
    }
    const message =
      code === "ENOENT"
        ? `No such file: ${(error as { path?: string }).path ?? "?"}`
        : error instanceof Error
          ? error.message
          : String(error);
    return { code: 1, out: [], err: [message] };
  }
}

/** Prints a command's outcome and sets the exit code. */
export function report(outcome: Outcome): void {
  for (const line of outcome.out) console.log(line);
  for (const line of outcome.err) console.error(line);
  process.exitCode = outcome.code;
}
