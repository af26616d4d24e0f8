import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./lib/paths.ts";
import {
  addOperations,
  diffDocuments,
  parseDocument,
  suggestOperations,
  summaryFor,
} from "../packages/spec/src/spec-tools.ts";
import type { Document } from "../packages/spec/src/spec-tools.ts";

const run = promisify(execFile);
const tsx = join(repoRoot, "node_modules/.bin/tsx");
const fixture = (name: string) => join(repoRoot, "scripts/fixtures", name);
const upstreamFile = fixture("mini-upstream.json");
const upstream = parseDocument(await readFile(upstreamFile, "utf8"));
const excerpt = parseDocument(await readFile(fixture("mini-excerpt.yaml"), "utf8"));

async function script(name: string, args: string[]) {
  return run(tsx, [join(repoRoot, "scripts", name), ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

async function scratchExcerpt(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-spec-"));
  const file = join(folder, "excerpt.yaml");
  await copyFile(fixture("mini-excerpt.yaml"), file);
  return file;
}

describe("addOperations", () => {
  it("pulls exactly the transitive closure: a $ref chain, a oneOf, a shared parameter", () => {
    const added = addOperations(excerpt, upstream, ["widgets_getCollection"]);
    expect(Object.keys(added.paths!)).toEqual(["/v1/widgets"]);
    expect(Object.keys(added.components!.schemas!)).toEqual([
      "Circle",
      "Color",
      "ErrorResponse",
      "Square",
      "Widget",
      "WidgetAttributes",
      "WidgetsResponse",
    ]);
    expect(Object.keys(added.components!.parameters!)).toEqual(["limit"]);
  });

  it("takes METHOD /path as well, with the path's own parameters", () => {
    const added = addOperations(excerpt, upstream, ["DELETE /v1/widgets/{id}"]);
    const item = added.paths!["/v1/widgets/{id}"]!;
    expect(Object.keys(item)).toEqual(["parameters", "delete"]);
    expect(Object.keys(added.components!.schemas!)).toEqual(["ErrorResponse"]);
  });

  it("drops upstream text unless asked, and keeps the excerpt's own", () => {
    const plain = addOperations(excerpt, upstream, ["widgets_getCollection"]);
    const operation = plain.paths!["/v1/widgets"]!.get as Record<string, any>;
    expect(operation.description).toBeUndefined();
    expect(operation.summary).toBe("List widgets.");
    expect(operation.responses["200"].description).toBe("OK");
    expect((plain.components!.schemas!.Widget as Record<string, any>).description).toBeUndefined();
    // A property named "description" is a fact, not text.
    expect(
      (plain.components!.schemas!.WidgetAttributes as Record<string, any>).properties.description,
    ).toEqual({ type: "string" });

    const kept = addOperations(excerpt, upstream, ["widgets_getCollection"], {
      keepDescriptions: true,
    });
    expect((kept.paths!["/v1/widgets"]!.get as Record<string, any>).description).toBe(
      "Upstream text that the excerpt does not copy.",
    );

    const ours = structuredClone(plain) as Document;
    (ours.paths!["/v1/widgets"]!.get as Record<string, any>).summary = "Our words.";
    (ours.components!.schemas!.Widget as Record<string, any>).description = "Our widget.";
    const again = addOperations(ours, upstream, ["widgets_getCollection"], {
      keepDescriptions: true,
    });
    expect((again.paths!["/v1/widgets"]!.get as Record<string, any>).summary).toBe("Our words.");
    expect((again.components!.schemas!.Widget as Record<string, any>).description).toBe(
      "Our widget.",
    );
  });

  it("is independent of the order operations are added in", () => {
    const one = addOperations(addOperations(excerpt, upstream, ["widgets_getInstance"]), upstream, [
      "widgets_getCollection",
    ]);
    const other = addOperations(excerpt, upstream, [
      "widgets_getCollection",
      "widgets_getInstance",
    ]);
    expect(JSON.stringify(one)).toBe(JSON.stringify(other));
  });

  it("makes summaries from operation ids", () => {
    expect(
      summaryFor({
        path: "/v1/x",
        method: "post",
        operationId: "alternativeDistributionDomains_createInstance",
      }),
    ).toBe("Create an alternative distribution domain.");
    expect(
      summaryFor({
        path: "/v1/x",
        method: "get",
        operationId: "apps_alternativeDistributionKey_getToOneRelated",
      }),
    ).toBe("GET /v1/x");
  });
});

describe("pnpm spec:add", () => {
  it("gives the same bytes when run twice, and validates what it writes", async () => {
    const file = await scratchExcerpt();
    const first = await script("spec-add.ts", [
      "--from",
      upstreamFile,
      "--spec",
      file,
      "widgets_getCollection",
      "DELETE /v1/widgets/{id}",
    ]);
    expect(first.code).toBe(0);
    const once = await readFile(file, "utf8");
    const second = await script("spec-add.ts", [
      "--from",
      upstreamFile,
      "--spec",
      file,
      "widgets_getCollection",
      "DELETE /v1/widgets/{id}",
    ]);
    expect(second.stdout).toContain("nothing changed");
    expect(await readFile(file, "utf8")).toBe(once);
    expect(once).toContain("summary: List widgets.");
  }, 30_000);

  it("repairs Apple's format: null with a warning, and says what was already there", async () => {
    const file = await scratchExcerpt();
    const defective = structuredClone(JSON.parse(await readFile(upstreamFile, "utf8")));
    defective.components.schemas.Gadget.properties.id.format = null;
    const from = join(await mkdtemp(join(tmpdir(), "asc-kit-spec-")), "apple.json");
    await writeFile(from, JSON.stringify(defective));
    const first = await script("spec-add.ts", [
      "--from",
      from,
      "--spec",
      file,
      "gadgets_getCollection",
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      "Repaired Apple's description: removed `format: null` at #/components/schemas/Gadget/properties/id.",
    );
    const both = await script("spec-add.ts", [
      ...["--from", from, "--spec", file],
      ...["gadgets_getCollection", "widgets_getCollection"],
    ]);
    expect(both.stdout).toMatch(
      /Added widgets_getCollection to .*; already present: gadgets_getCollection\./,
    );
  }, 30_000);

  it("takes --no-include, refuses it beside --include, and keeps a file's style without prettier", async () => {
    const file = await scratchExcerpt();
    const added = await script("spec-add.ts", [
      ...["--from", upstreamFile, "--spec", file, "--no-include"],
      "widgets_getCollection",
    ]);
    expect(added.code, added.stderr).toBe(0);
    const written = await readFile(file, "utf8");
    // Written without prettier, and prettier would change nothing.
    const prettier = await import("prettier");
    expect(await prettier.format(written, { filepath: file })).toBe(written);
    const both = await script("spec-add.ts", [
      ...["--from", upstreamFile, "--spec", file, "--no-include", "--include", "x"],
      "widgets_getCollection",
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("Give --include <a,b> or --no-include, not both.");
  }, 30_000);

  it("prints its usage on standard output for --help, and exits 0", async () => {
    const help = await script("spec-add.ts", ["--help"]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toContain("Usage:");
  }, 30_000);

  it("fails on an unknown operation, suggesting the closest ones, and writes nothing", async () => {
    const file = await scratchExcerpt();
    const before = await readFile(file, "utf8");
    const failed = await script("spec-add.ts", [
      "--from",
      upstreamFile,
      "--spec",
      file,
      "widget_getCollection",
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /No operation "widget_getCollection" in the upstream file\. Closest: widgets_getCollection, /,
    );
    expect(await readFile(file, "utf8")).toBe(before);
  }, 30_000);

  it("suggests names in the form the user typed", () => {
    const byId = suggestOperations(upstream, "widget_getCollection");
    expect(byId.every((name) => !name.includes(" "))).toBe(true);
    const byPath = suggestOperations(upstream, "GET /v1/widget");
    expect(byPath.length).toBeGreaterThan(0);
    expect(byPath.every((name) => /^[A-Z]+ \//.test(name))).toBe(true);
  });
});

describe("diffDocuments and pnpm spec:diff", () => {
  const synced = addOperations(excerpt, upstream, [
    "widgets_getCollection",
    "widgets_getInstance",
    "widgets_deleteInstance",
  ]);
  const drifted = (change: (document: Record<string, any>) => void) => {
    const copy = structuredClone(upstream) as Record<string, any>;
    change(copy);
    return diffDocuments(synced, copy as Document);
  };

  it("finds no drift in sync, whatever the descriptions and key order", () => {
    const reordered = structuredClone(upstream) as Record<string, any>;
    reordered.components.schemas.Widget = Object.fromEntries(
      Object.entries(reordered.components.schemas.Widget).reverse(),
    );
    reordered.components.schemas.Widget.description = "Changed text";
    expect(diffDocuments(synced, reordered as Document)).toEqual([]);
  });

  it.each([
    [
      "a path gone",
      (d: Record<string, any>) => delete d.paths["/v1/widgets"],
      "path gone",
      /upstream has no path \/v1\/widgets/,
    ],
    [
      "an operation gone",
      (d: Record<string, any>) => delete d.paths["/v1/widgets/{id}"].delete,
      "operation gone",
      /no DELETE/,
    ],
    [
      "a parameter changed",
      (d: Record<string, any>) => (d.paths["/v1/widgets"].get.parameters[1].explode = true),
      "value changed",
      /parameters\.query:filter\[color\]\.explode: excerpt false, upstream true/,
    ],
    [
      "a parameter added",
      (d: Record<string, any>) =>
        d.paths["/v1/widgets"].get.parameters.push({
          name: "sort",
          in: "query",
          schema: { type: "string" },
        }),
      "parameters",
      /parameters\.query:sort: only upstream/,
    ],
    [
      "an enum value added",
      (d: Record<string, any>) => d.components.schemas.Color.enum.push("GREEN"),
      "enum values",
      /upstream adds GREEN/,
    ],
    [
      "a required list changed",
      (d: Record<string, any>) => d.components.schemas.Widget.required.push("attributes"),
      "required list",
      /required: upstream adds attributes/,
    ],
    [
      "a property type changed",
      (d: Record<string, any>) => (d.components.schemas.Circle.properties.radius.type = "integer"),
      "property types",
      /properties\.radius\.type: excerpt "number", upstream "integer"/,
    ],
    [
      "a response code added",
      (d: Record<string, any>) =>
        (d.paths["/v1/widgets"].get.responses["429"] = { description: "x" }),
      "response codes",
      /responses\.429: only upstream/,
    ],
    [
      "a schema gone",
      (d: Record<string, any>) => delete d.components.schemas.Square,
      "schema gone",
      /upstream has no schemas\/Square/,
    ],
  ])("reports %s", (_name, change, kind, detail) => {
    const drifts = drifted(change);
    expect(drifts.map((drift) => drift.kind)).toContain(kind);
    expect(drifts.map((drift) => drift.detail).join("\n")).toMatch(detail);
  });

  it("exits 1 on drift and 0 in sync, printing the upstream version and hash", async () => {
    const file = await scratchExcerpt();
    await script("spec-add.ts", [
      "--from",
      upstreamFile,
      "--spec",
      file,
      "widgets_getCollection",
      "widgets_getInstance",
    ]);
    const inSync = await script("spec-diff.ts", ["--from", upstreamFile, "--spec", file]);
    expect(inSync.code).toBe(0);
    expect(inSync.stdout).toMatch(
      /^upstream: info\.version 9\.9\.9, sha256 [0-9a-f]{64}\nin sync: 2 operations and 7 schemas agree with upstream\.\n$/,
    );
    const changed = structuredClone(upstream) as Record<string, any>;
    changed.components.schemas.Color.enum.push("GREEN");
    const changedFile = join(await mkdtemp(join(tmpdir(), "asc-kit-spec-")), "upstream.json");
    await writeFile(changedFile, JSON.stringify(changed));
    const drift = await script("spec-diff.ts", ["--from", changedFile, "--spec", file]);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain("schema Color\n  enum values: enum: upstream adds GREEN");
  }, 30_000);

  it("answers a misused command with the usage and a missing file by its name, never a stack trace", async () => {
    const stray = await script("spec-diff.ts", ["upstream.json"]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("Unexpected argument 'upstream.json'");
    expect(stray.stderr).toContain("pnpm spec:diff --from <apple-openapi.json>");
    const missing = join(await mkdtemp(join(tmpdir(), "asc-kit-spec-")), "absent.json");
    for (const [name, args] of [
      ["spec-diff.ts", ["--from", missing]],
      ["spec-add.ts", ["--from", missing, "widgets_getCollection"]],
    ] as const) {
      const outcome = await script(name, [...args, "--spec", await scratchExcerpt()]);
      expect(outcome.code).toBe(1);
      expect(outcome.stderr.trim()).toBe(`No such file: ${missing}`);
    }
  }, 30_000);
});
