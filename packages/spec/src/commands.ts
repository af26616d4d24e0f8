import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { shippedFile } from "./format.js";
import { UnknownIncludeError } from "./includes.js";
import {
  UnknownOperationError,
  addOperations,
  contentHash,
  diffDocuments,
  findOperation,
  operationsOf,
  parseDocument,
  serializeDocument,
  unresolvedRefs,
} from "./spec-tools.js";

/** What a command reports: lines for standard output or error, and the exit code. */
export interface Outcome {
  code: number;
  out: string[];
  err: string[];
}

const done = (out: string[], err: string[] = [], code = err.length > 0 ? 1 : 0): Outcome => ({
  code,
  out,
  err,
});

/**
 * Copies operations (by operationId or `METHOD /path`) and everything they reference from
 * Apple's description into an excerpt, validates and lints the result, and writes it. A
 * missing excerpt starts from asc-kit's own, so a consumer's file is a superset of it.
 */
export async function addCommand(options: {
  from: string;
  spec: string;
  operations: readonly string[];
  keepDescriptions?: boolean;
  /** The relationships the operations may include; default all Apple declares, `[]` none. */
  include?: readonly string[];
  /** How the spec file is named in messages. */
  show?: (file: string) => string;
  /** What to run next, named in the success message. */
  next?: string;
}): Promise<Outcome> {
  const show = options.show ?? ((file: string) => file);
  const existing = await readFile(options.spec, "utf8").catch(() => undefined);
  const excerptText = existing ?? (await readFile(shippedFile("app-store-connect.yaml"), "utf8"));
  let updated;
  const excerpt = parseDocument(excerptText);
  const present = options.operations.filter((selector) => findOperation(excerpt, selector));
  const names = options.operations.join(", ");
  const holder = existing === undefined ? "asc-kit's own excerpt" : show(options.spec);
  if (present.length === options.operations.length && !options.include) {
    return done([`${holder} already has ${names}; nothing changed.`]);
  }
  const upstreamText = await readFile(options.from, "utf8");
  try {
    updated = addOperations(excerpt, parseDocument(upstreamText), options.operations, {
      keepDescriptions: options.keepDescriptions ?? false,
      ...(options.include ? { include: options.include } : {}),
    });
  } catch (error) {
    if (!(error instanceof UnknownOperationError) && !(error instanceof UnknownIncludeError))
      throw error;
    return done([], [error.message]);
  }
  const repaired = repairNulls(updated);
  const dangling = unresolvedRefs(updated);
  if (dangling.length > 0) {
    return done([], [`Not written: references that resolve to nothing: ${dangling.join(", ")}`]);
  }
  const text = await serializeDocument(updated, options.spec, {
    ...(existing === undefined ? {} : { like: { text: existing, document: excerpt } }),
  });
  // Loaded here: the lint's and the generator's libraries take a second or more to load.
  const { lintErrors } = await import("./lint.js");
  const errors = await lintErrors(text, options.spec);
  if (errors.length > 0) {
    return done([], [`Not written: the result does not pass the lint:\n  ${errors.join("\n  ")}`]);
  }
  const added = options.operations.filter((selector) => !present.includes(selector));
  if (text === existing) return done([`${holder} already has ${names}; nothing changed.`]);
  const already = present.length > 0 ? `; already present: ${present.join(", ")}` : "";
  await mkdir(dirname(options.spec), { recursive: true });
  await writeFile(options.spec, text);
  const started = existing === undefined ? " (started from asc-kit's own excerpt)" : "";
  return done([
    ...repaired,
    `${added.length > 0 ? `Added ${added.join(", ")} to` : `Updated ${names} in`} ${show(options.spec)}${started}${already}.${options.next ? ` Next: ${options.next}.` : ""}`,
  ]);
}

/** Keys that OpenAPI wants a string in, which Apple's file sometimes gives as `null`. */
const stringKeys = new Set(["format", "pattern", "title", "description"]);

/**
 * Removes `null` where a string belongs (Apple's `AppEvent.deepLink` has `format: null`): a
 * defect of Apple's file must not stop the user. Returns a warning per repair, naming where.
 */
function repairNulls(document: object): string[] {
  const warnings: string[] = [];
  const visit = (node: unknown, pointer: string) => {
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      const here = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (value === null && stringKeys.has(key)) {
        delete (node as Record<string, unknown>)[key];
        warnings.push(`Repaired Apple's description: removed \`${key}: null\` at #${pointer}.`);
      } else visit(value, here);
    }
  };
  visit(document, "");
  return warnings;
}

/**
 * Writes the typed `paths` of an excerpt for openapi-fetch and `@asc-kit/core`, with a
 * do-not-edit header naming the spec's version and hash; with `check`, writes nothing and
 * fails when the file is stale.
 */
export async function generateCommand(options: {
  spec: string;
  out: string;
  check?: boolean;
  command: string;
  show?: (file: string) => string;
}): Promise<Outcome> {
  const show = options.show ?? ((file: string) => file);
  const { generateTypes } = await import("./codegen.js");
  const generated = await generateTypes(await readFile(options.spec, "utf8"), {
    specLabel: show(options.spec),
    formatFor: options.out,
    command: options.command,
  });
  const current = await readFile(options.out, "utf8").catch(() => undefined);
  if (options.check) {
    if (current === generated.source) {
      return done([`${show(options.out)} is up to date (spec ${generated.specVersion}).`]);
    }
    return done(
      [],
      [
        `${show(options.out)} is ${current === undefined ? "missing" : "stale"}: it does not match what ` +
          `${show(options.spec)} produces. Run \`${options.command}\` and commit the result.`,
      ],
    );
  }
  if (current === generated.source) return done([`${show(options.out)} was already up to date.`]);
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, generated.source);
  return done([
    `Wrote ${show(options.out)} (spec ${generated.specVersion}, sha256 ${generated.specSha256.slice(0, 12)}).`,
  ]);
}

/**
 * Compares every operation and schema of an excerpt with Apple's description. Exit 1 on drift.
 * Prints the upstream version and content hash: Apple has changed the file without the version.
 */
export async function diffCommand(options: { from: string; spec: string }): Promise<Outcome> {
  const upstreamBytes = await readFile(options.from);
  const excerpt = parseDocument(await readFile(options.spec, "utf8"));
  const upstream = parseDocument(upstreamBytes.toString("utf8"));
  const out = [
    `upstream: info.version ${String(upstream.info?.version)}, sha256 ${contentHash(upstreamBytes)}`,
  ];
  const drifts = diffDocuments(excerpt, upstream);
  const checked = `${operationsOf(excerpt).length} operations and ${Object.keys(excerpt.components?.schemas ?? {}).length} schemas`;
  if (drifts.length === 0) return done([...out, `in sync: ${checked} agree with upstream.`]);
  const byItem = new Map<string, typeof drifts>();
  for (const drift of drifts) byItem.set(drift.item, [...(byItem.get(drift.item) ?? []), drift]);
  for (const [item, found] of byItem) {
    out.push(`\n${item}`);
    for (const drift of found) out.push(`  ${drift.kind}: ${drift.detail}`);
  }
  out.push(
    `\ndrift: ${drifts.length} difference${drifts.length === 1 ? "" : "s"} in ${byItem.size} of ${checked}.`,
  );
  return done(out, [], 1);
}
