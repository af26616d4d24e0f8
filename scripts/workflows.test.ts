import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./lib/paths.ts";

const folder = join(repoRoot, ".github/workflows");
const files = await readdir(folder);
const scripts = Object.keys(
  (
    JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }
  ).scripts,
);

describe("GitHub workflows", () => {
  it.each(files)("%s is a valid workflow that runs only scripts the project has", async (file) => {
    const workflow = parse(await readFile(join(folder, file), "utf8")) as {
      on: unknown;
      jobs: Record<string, { steps: Array<{ run?: string; uses?: string }> }>;
    };
    expect(workflow.on).toBeDefined();
    for (const job of Object.values(workflow.jobs)) {
      expect(job.steps.length).toBeGreaterThan(0);
      for (const step of job.steps) {
        expect(step.run ?? step.uses).toBeDefined();
        for (const [, script] of (step.run ?? "").matchAll(/pnpm (?:run )?([a-z][\w:-]*)/g)) {
          if (script === "install") continue;
          expect(scripts, `${file} runs pnpm ${script}`).toContain(script);
        }
      }
    }
  });
});

describe("the CI entry point", () => {
  it("runs the suite on the Node.js lines the workflow's matrix declares", async () => {
    const ci = parse(await readFile(join(folder, "ci.yml"), "utf8")) as {
      jobs: { test: { strategy: { matrix: { node: string[] } } } };
    };
    const run = await readFile(join(repoRoot, ".ci/run"), "utf8");
    const majors = /^current_node_majors=\(([\d ]+)\)$/m.exec(run)?.[1]?.split(" ");
    const engines = (
      JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
        engines: { node: string };
      }
    ).engines.node;
    // The oldest line is the machine's own; the matrix names it by the engines floor.
    expect(ci.jobs.test.strategy.matrix.node).toEqual([engines.replace(">=", ""), ...majors!]);
  });
});
