import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./cli.js";
import { ExitCode } from "./exit-codes.js";
import type { Io } from "./output.js";

/** The CLI README, held to the program's own definition. */
const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");

const silent: Io = {
  stdout: () => undefined,
  stderr: () => undefined,
  readStdin: async () => "",
  env: {},
  isTty: false,
  confirm: async () => false,
};

/**
 * Every command a user runs: the leaves, and a command with subcommands that has options of its
 * own, which it runs itself (`asc-kit sandbox`, beside `asc-kit sandbox publish-version`).
 */
function leaves(command: Command, path: string[] = []): Array<{ path: string; command: Command }> {
  const children = command.commands.flatMap((child) => leaves(child, [...path, child.name()]));
  const runsItself = path.length > 0 && (children.length === 0 || command.options.length > 0);
  return runsItself ? [{ path: path.join(" "), command }, ...children] : children;
}

function longFlags(command: Command): string[] {
  return command.options.flatMap((option) => (option.long ? [option.long] : []));
}

describe("the CLI README", () => {
  const program = buildProgram(silent);

  it("names every command and every option", () => {
    const missing: string[] = [];
    for (const { path, command } of leaves(program)) {
      if (!readme.includes(`\`asc-kit ${path}`) && !readme.includes(`, \`asc-kit ${path}`)) {
        missing.push(`asc-kit ${path}`);
      }
      for (const flag of longFlags(command)) {
        if (!readme.includes(flag)) missing.push(`asc-kit ${path} ${flag}`);
      }
    }
    for (const flag of longFlags(program)) {
      if (flag !== "--help" && !readme.includes(flag)) missing.push(flag);
    }
    expect(missing).toEqual([]);
  });

  it("lists exactly the exit codes the program uses", () => {
    const section = readme.slice(readme.indexOf("## Exit codes"));
    const documented = [...section.matchAll(/^\| (\d+) +\|/gm)].map((match) => Number(match[1]));
    expect(documented).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it("states the --json failure shape the tests hold it to", () => {
    expect(readme).toContain("`{ ok: false, code, message, hint? }`");
  });

  it("shows only commands that exist in its shell examples", () => {
    const paths = new Set(leaves(program).map(({ path }) => path));
    const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((match) => match[1]!);
    const lines = blocks.flatMap((block) =>
      block.split("\n").flatMap((line) => [...line.matchAll(/(?:^|&& )asc-kit ([a-z -]+)/g)]),
    );
    expect(lines.length).toBeGreaterThan(0);
    for (const [, words] of lines) {
      const path = words!.trim().split(/\s+/).slice(0, 2);
      const known = paths.has(path.join(" ")) || paths.has(path[0]!);
      expect(known, `asc-kit ${words}`).toBe(true);
    }
  });
});
