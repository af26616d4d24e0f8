import { createHash } from "node:crypto";
import { formatted } from "./format.js";
import { UnknownIncludeError, narrowIncludes } from "./includes.js";
import { parse, stringify } from "yaml";

/** A loosely typed OpenAPI document: the tools only move and compare its parts. */
export type Node = Record<string, unknown>;
export interface Document extends Node {
  info?: { version?: unknown };
  paths?: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
}

export const httpMethods = [
  "get",
  "put",
  "post",
  "delete",
  "options",
  "head",
  "patch",
  "trace",
] as const;
const textKeys = new Set(["description", "summary"]);

/** Reads JSON (fast, for Apple's 5 MB file) or YAML. */
export function parseDocument(text: string): Document {
  return (text.trimStart().startsWith("{") ? JSON.parse(text) : parse(text)) as Document;
}

/** SHA-256 of a file's bytes, to notice changes that keep `info.version`. */
export function contentHash(bytes: string | Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface OperationRef {
  path: string;
  method: (typeof httpMethods)[number];
  operationId: string | undefined;
}

/** Every operation of a document, in document order. */
export function operationsOf(document: Document): OperationRef[] {
  const found: OperationRef[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of httpMethods) {
      const operation = item[method] as Node | undefined;
      if (operation)
        found.push({ path, method, operationId: operation.operationId as string | undefined });
    }
  }
  return found;
}

/** Finds an operation by operationId or by "METHOD /path". */
export function findOperation(document: Document, selector: string): OperationRef | undefined {
  const match = /^([A-Za-z]+)\s+(\/\S*)$/.exec(selector.trim());
  const operations = operationsOf(document);
  if (match) {
    const method = match[1]!.toLowerCase();
    return operations.find(
      (operation) => operation.method === method && operation.path === match[2],
    );
  }
  return operations.find((operation) => operation.operationId === selector);
}

/**
 * The closest operation names to a selector that matched none, best first, in the form the
 * user typed: operationIds for an operationId, `METHOD /path` for a method and path.
 */
export function suggestOperations(document: Document, selector: string, count = 5): string[] {
  const needle = selector.toLowerCase();
  const byPath = /^[A-Za-z]+\s+\//.test(selector.trim());
  const candidates = operationsOf(document).flatMap((operation) =>
    byPath
      ? [`${operation.method.toUpperCase()} ${operation.path}`]
      : operation.operationId
        ? [operation.operationId]
        : [],
  );
  return candidates
    .map((candidate) => ({ candidate, distance: editDistance(needle, candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map(({ candidate }) => candidate);
}

/** Levenshtein distance, with a two-row table. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Thrown for selectors that name no operation; the message lists the closest ones. */
export class UnknownOperationError extends Error {
  constructor(
    readonly selector: string,
    readonly suggestions: string[],
  ) {
    super(`No operation "${selector}" in the upstream file. Closest: ${suggestions.join(", ")}.`);
    this.name = "UnknownOperationError";
  }
}

export interface AddOptions {
  /** Keep upstream `description` and `summary` text; by default it is dropped. */
  keepDescriptions?: boolean;
  /**
   * The relationships the operations may `include`; default all that Apple declares. `[]`
   * keeps none: no `include`, no `limit[…]` or `fields[…]` of other types, and a response
   * whose `included` pulls in no other resources' schemas.
   */
  include?: readonly string[];
}

/**
 * Adds the named operations of `upstream` to `excerpt`, with every component they reference,
 * transitively. Items the excerpt has already keep its own descriptions; upstream text is
 * dropped unless asked for. Returns a new document in canonical order.
 */
export function addOperations(
  excerpt: Document,
  upstream: Document,
  selectors: readonly string[],
  options: AddOptions = {},
): Document {
  const result = structuredClone(excerpt);
  result.paths ??= {};
  result.components ??= {};
  const pending: string[] = [];
  const narrowedSchemas: Record<string, Node> = {};
  const includable = new Set<string>();
  for (const selector of selectors) {
    const found = findOperation(upstream, selector);
    if (!found) throw new UnknownOperationError(selector, suggestOperations(upstream, selector));
    const upstreamItem = upstream.paths![found.path]!;
    const item = (result.paths[found.path] ??= {});
    if (upstreamItem.parameters !== undefined) {
      item.parameters = adopt(upstreamItem.parameters, item.parameters, options);
      pending.push(...refsIn(upstreamItem.parameters));
    }
    let upstreamOperation = upstreamItem[found.method] as Node;
    if (options.include) {
      const narrowed = narrowIncludes(
        upstream,
        excerpt,
        upstreamOperation,
        new Set(options.include),
      );
      upstreamOperation = narrowed.operation;
      Object.assign(narrowedSchemas, narrowed.schemas);
      for (const name of narrowed.includable) includable.add(name);
    }
    const operation = adopt(upstreamOperation, item[found.method], options) as Node;
    // The lint wants a summary; Apple's file has none, so one is made from the operation id.
    item[found.method] = operation.summary
      ? operation
      : { ...operation, summary: summaryFor(found) };
    pending.push(...refsIn(upstreamOperation));
  }
  const unknown = (options.include ?? []).filter((name) => !includable.has(name));
  if (unknown.length > 0) throw new UnknownIncludeError(unknown, [...includable].sort());
  // The closure: every component reachable from what was added.
  const seen = new Set<string>();
  while (pending.length > 0) {
    const ref = pending.pop()!;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const [section, name] = componentOf(ref);
    const upstreamComponent =
      (section === "schemas" ? narrowedSchemas[name] : undefined) ??
      upstream.components?.[section]?.[name];
    if (upstreamComponent === undefined)
      throw new Error(`The upstream file has no ${ref}, though an operation refers to it.`);
    const components = (result.components[section] ??= {});
    components[name] = adopt(upstreamComponent, components[name], options);
    pending.push(...refsIn(upstreamComponent));
  }
  return canonicalOrder(result);
}

/**
 * Upstream facts with the excerpt's text: where the excerpt has a description or summary at
 * the same place, it stays; other upstream text goes unless kept. Responses keep a short
 * description because OpenAPI requires one.
 */
function adopt(upstream: unknown, existing: unknown, options: AddOptions, key?: string): unknown {
  if (Array.isArray(upstream)) {
    const existingList = Array.isArray(existing) ? existing : [];
    return upstream.map((entry, index) =>
      adopt(entry, matchingEntry(entry, existingList, index), options),
    );
  }
  if (!isNode(upstream)) return upstream;
  const previous = isNode(existing) ? existing : {};
  const adopted: Node = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (textKeys.has(name) && typeof value === "string") {
      const kept =
        typeof previous[name] === "string"
          ? previous[name]
          : options.keepDescriptions
            ? value
            : undefined;
      if (kept !== undefined) adopted[name] = kept;
      continue;
    }
    adopted[name] = adopt(value, previous[name], options, name);
  }
  for (const name of textKeys) {
    if (adopted[name] === undefined && typeof previous[name] === "string")
      adopted[name] = previous[name];
  }
  if (key === "responses") {
    for (const [status, response] of Object.entries(adopted)) {
      if (isNode(response) && typeof response.description !== "string") {
        adopted[status] = { description: reasonPhrase(status), ...response };
      }
    }
  }
  return adopted;
}

/** "alternativeDistributionDomains_createInstance" → "Create an alternative distribution domain." */
export function summaryFor(operation: OperationRef): string {
  const [resource = "", action = ""] = (operation.operationId ?? "").split("_");
  const plural = resource.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  const singular = plural.replace(/ies$/, "y").replace(/(?<!s)s$/, "");
  const article = /^[aeiou]/.test(singular) ? "an" : "a";
  const sentences: Record<string, string> = {
    getCollection: `List ${plural}.`,
    getInstance: `Read ${article} ${singular}.`,
    createInstance: `Create ${article} ${singular}.`,
    updateInstance: `Update ${article} ${singular}.`,
    deleteInstance: `Delete ${article} ${singular}.`,
  };
  return sentences[action] ?? `${operation.method.toUpperCase()} ${operation.path}`;
}

/** Parameters are matched by name and location, other list entries by position. */
function matchingEntry(entry: unknown, existing: readonly unknown[], index: number): unknown {
  if (isNode(entry) && typeof entry.name === "string") {
    return existing.find(
      (candidate) =>
        isNode(candidate) && candidate.name === entry.name && candidate.in === entry.in,
    );
  }
  return existing[index];
}

function reasonPhrase(status: string): string {
  const phrases: Record<string, string> = {
    "200": "OK",
    "201": "Created",
    "202": "Accepted",
    "204": "No content",
    "400": "Bad request",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "Not found",
    "409": "Conflict",
    "422": "Unprocessable entity",
    "429": "Rate limit exceeded",
  };
  return phrases[status] ?? `Status ${status}`;
}

/** Every `$ref` under a node. */
export function refsIn(node: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isNode(value)) {
      if (typeof value.$ref === "string") found.push(value.$ref);
      Object.values(value).forEach(visit);
    }
  };
  visit(node);
  return found;
}

/** The section and name of a local component reference, `#/components/schemas/App`. */
export function componentOf(ref: string): [string, string] {
  const match = /^#\/components\/([^/]+)\/(.+)$/.exec(ref);
  if (!match) throw new Error(`Only local component references are supported, not ${ref}.`);
  return [match[1]!, match[2]!.replace(/~1/g, "/").replace(/~0/g, "~")];
}

/** The references of a document that point nowhere. */
export function unresolvedRefs(document: Document): string[] {
  return [...new Set(refsIn(document))].filter((ref) => {
    try {
      const [section, name] = componentOf(ref);
      return document.components?.[section]?.[name] === undefined;
    } catch {
      return true;
    }
  });
}

/**
 * Sorts what has no meaningful order, so output is the same whatever the order of additions:
 * paths and components by name, methods in HTTP order, responses by status.
 */
export function canonicalOrder(document: Document): Document {
  const sortedKeys = <T>(record: Record<string, T>, compare?: (a: string, b: string) => number) =>
    Object.fromEntries(
      Object.entries(record).sort(([a], [b]) =>
        compare ? compare(a, b) : a < b ? -1 : a > b ? 1 : 0,
      ),
    );
  const ordered: Document = { ...document };
  if (document.paths) {
    ordered.paths = sortedKeys(document.paths);
    for (const [path, item] of Object.entries(ordered.paths)) {
      const rank = (key: string) =>
        key === "parameters" ? -1 : httpMethods.indexOf(key as (typeof httpMethods)[number]);
      const sortedItem = sortedKeys(item, (a, b) => rank(a) - rank(b));
      for (const method of httpMethods) {
        const operation = sortedItem[method];
        if (isNode(operation) && isNode(operation.responses)) {
          sortedItem[method] = { ...operation, responses: sortedKeys(operation.responses) };
        }
      }
      ordered.paths[path] = sortedItem;
    }
  }
  if (document.components) {
    ordered.components = Object.fromEntries(
      Object.entries(document.components).map(([section, entries]) => [
        section,
        sortedKeys(entries),
      ]),
    );
  }
  return ordered;
}

/**
 * YAML as the excerpt is kept: prettier-formatted, so a rewrite changes only what changed.
 * `like`, the file's current text and what it parses to, skips prettier when that text is
 * already exactly what is written here for it (the `yaml` library's block style, which prettier
 * leaves as it is): the file keeps its style, and prettier, which takes a second or more on a
 * large excerpt, would change nothing.
 */
export async function serializeDocument(
  document: Document,
  filepath: string,
  options: { like?: { text: string; document: Document } } = {},
): Promise<string> {
  const text = stringify(document, { lineWidth: 0 });
  const { like } = options;
  if (like && stringify(like.document, { lineWidth: 0 }) === like.text) return text;
  return formatted(text, filepath);
}

/** One difference between the excerpt and the upstream file. */
export interface Drift {
  /** `operation GET /v1/x` or `schema Name`. */
  item: string;
  /** What kind of fact differs, e.g. `enum values`, `required list`, `response codes`. */
  kind: string;
  /** Where and how, e.g. `parameters.query:limit.schema.maximum: excerpt 200, upstream 100`. */
  detail: string;
}

/**
 * Compares every operation and schema of the excerpt with the upstream file. Descriptions,
 * summaries and key order are not drift.
 */
export function diffDocuments(excerpt: Document, upstream: Document): Drift[] {
  const drifts: Drift[] = [];
  for (const operation of operationsOf(excerpt)) {
    const item = `operation ${operation.method.toUpperCase()} ${operation.path}`;
    const upstreamItem = upstream.paths?.[operation.path];
    if (!upstreamItem) {
      drifts.push({ item, kind: "path gone", detail: `upstream has no path ${operation.path}` });
      continue;
    }
    if (!upstreamItem[operation.method]) {
      drifts.push({
        item,
        kind: "operation gone",
        detail: `upstream has no ${operation.method.toUpperCase()} on ${operation.path}`,
      });
      continue;
    }
    const ours = normalizeOperation(excerpt.paths![operation.path]!, operation.method);
    const theirs = normalizeOperation(upstreamItem, operation.method);
    compare(ours, theirs, "", (path, kind, detail) =>
      drifts.push({ item, kind, detail: path ? `${path}: ${detail}` : detail }),
    );
  }
  for (const [section, entries] of Object.entries(excerpt.components ?? {})) {
    if (section === "securitySchemes") continue;
    for (const [name, schema] of Object.entries(entries)) {
      const item = `${section === "schemas" ? "schema" : section} ${name}`;
      const upstreamSchema = upstream.components?.[section]?.[name];
      if (upstreamSchema === undefined) {
        drifts.push({ item, kind: "schema gone", detail: `upstream has no ${section}/${name}` });
        continue;
      }
      compare(stripText(schema), stripText(upstreamSchema), "", (path, kind, detail) =>
        drifts.push({ item, kind, detail: path ? `${path}: ${detail}` : detail }),
      );
    }
  }
  return drifts;
}

/** An operation with its path-level parameters merged in, keyed for comparison. */
function normalizeOperation(item: Record<string, unknown>, method: string): Node {
  const operation = stripText(item[method]) as Node;
  const parameters = [
    ...((stripText(item.parameters) as unknown[]) ?? []),
    ...((operation.parameters as unknown[]) ?? []),
  ];
  const { tags: _tags, parameters: _parameters, ...rest } = operation;
  return {
    ...rest,
    parameters: Object.fromEntries(
      parameters
        .filter(isNode)
        .map((parameter) => [`${String(parameter.in)}:${String(parameter.name)}`, parameter]),
    ),
  };
}

function stripText(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripText);
  if (!isNode(node)) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(textKeys.has(key) && typeof value === "string"))
      .map(([key, value]) => [key, stripText(value)]),
  );
}

type Report = (path: string, kind: string, detail: string) => void;

function compare(ours: unknown, theirs: unknown, path: string, report: Report): void {
  const key = path.split(".").pop() ?? "";
  if (key === "enum" || key === "required") {
    const a = Array.isArray(ours) ? ours.map(String) : [];
    const b = Array.isArray(theirs) ? theirs.map(String) : [];
    const missing = b.filter((value) => !a.includes(value));
    const extra = a.filter((value) => !b.includes(value));
    if (missing.length || extra.length) {
      report(
        path,
        key === "enum" ? "enum values" : "required list",
        `${missing.length ? `upstream adds ${missing.join(", ")}` : ""}${missing.length && extra.length ? "; " : ""}${extra.length ? `upstream drops ${extra.join(", ")}` : ""}`,
      );
    }
    return;
  }
  if (isNode(ours) && isNode(theirs)) {
    const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
    for (const name of [...keys].sort()) {
      const childPath = path ? `${path}.${name}` : name;
      if (!(name in theirs))
        report(childPath, kindOf(path, name, "removed"), "only in the excerpt");
      else if (!(name in ours)) report(childPath, kindOf(path, name, "added"), "only upstream");
      else compare(ours[name], theirs[name], childPath, report);
    }
    return;
  }
  if (Array.isArray(ours) && Array.isArray(theirs) && ours.length === theirs.length) {
    ours.forEach((entry, index) => compare(entry, theirs[index], `${path}[${index}]`, report));
    return;
  }
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    report(
      path,
      kindOf(path.split(".").slice(0, -1).join("."), key, "changed"),
      `excerpt ${JSON.stringify(ours)}, upstream ${JSON.stringify(theirs)}`,
    );
  }
}

function kindOf(parent: string, key: string, change: "added" | "removed" | "changed"): string {
  const parentKey = parent.split(".").pop() ?? "";
  if (parentKey === "responses") return "response codes";
  if (parentKey === "parameters") return "parameters";
  if (parentKey === "properties") return "properties";
  if (key === "type" || key === "format" || key === "$ref" || key === "items")
    return "property types";
  return `value ${change}`;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
