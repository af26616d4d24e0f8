import { usageError } from "./report.js";

/** How a command's result is printed for scripts; see the README's "Output for scripts". */
export interface MachineOutput {
  /** Only these top-level fields of each object (`--json id,name`). */
  fields?: readonly string[];
  /** A jq program run on the result (`--jq`). */
  jq?: string;
  /** One JSON object a line for lists (`--ndjson`). */
  ndjson?: boolean;
  /** Standard output is a terminal: jq's values are pretty-printed there, one a line elsewhere. */
  terminal: boolean;
}

/** The members of a JSON:API resource object; anything else on one was computed by the CLI. */
const resourceMembers = new Set(["type", "id", "attributes", "relationships", "links", "meta"]);

/**
 * The result as scripts get it. A JSON:API resource becomes a plain object: `id`, `type`, its
 * attributes flattened, each relationship as the related id (or ids), and what the CLI
 * computed (a key's fingerprint and scope) apart, under `computed`. Links are left out:
 * they are the API's, not the resource's. Lists and nested values are converted alike.
 */
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (!isResource(record)) {
    return Object.fromEntries(Object.entries(record).map(([name, item]) => [name, plain(item)]));
  }
  const result: Record<string, unknown> = { id: record.id, type: record.type };
  Object.assign(result, record.attributes ?? {});
  for (const [name, relationship] of Object.entries(
    (record.relationships ?? {}) as Record<string, { data?: unknown }>,
  )) {
    if (relationship?.data === undefined) continue;
    result[name] = Array.isArray(relationship.data)
      ? relationship.data.map((linkage) => (linkage as { id: string }).id)
      : ((relationship.data as { id?: string } | null)?.id ?? null);
  }
  const computed = Object.entries(record).filter(([name]) => !resourceMembers.has(name));
  if (computed.length > 0) result.computed = Object.fromEntries(computed);
  return result;
}

function isResource(record: Record<string, unknown>): boolean {
  return (
    typeof record.type === "string" &&
    typeof record.id === "string" &&
    ("attributes" in record || "relationships" in record || "links" in record)
  );
}

/**
 * Keeps the named top-level fields of the result (of each item of a list). A name no item has
 * is a usage error that lists the names there are, so a typo is never an empty result.
 */
export function selectFields(value: unknown, fields: readonly string[]): unknown {
  const items = Array.isArray(value) ? value : [value];
  const available = new Set<string>();
  for (const item of items) {
    if (isRecord(item)) for (const name of Object.keys(item)) available.add(name);
  }
  const unknown = fields.filter((field) => !available.has(field));
  if (unknown.length > 0 && items.length > 0) {
    throw usageError(
      `Unknown field${unknown.length === 1 ? "" : "s"} for --json: ${unknown.join(", ")}.`,
      `Fields of this result: ${[...available].sort().join(", ") || "none (it is not an object)"}.`,
    );
  }
  const pick = (item: unknown) =>
    isRecord(item)
      ? Object.fromEntries(fields.filter((field) => field in item).map((f) => [f, item[f]]))
      : item;
  return Array.isArray(value) ? value.map(pick) : pick(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The text a command prints for scripts: plain objects, the fields asked for, jq's output. */
export async function renderMachine(value: unknown, output: MachineOutput): Promise<string> {
  let result = plain(value);
  if (output.fields) result = selectFields(result, output.fields);
  if (output.jq !== undefined) return runJq(result, output.jq, output.terminal);
  if (output.ndjson) {
    const lines = Array.isArray(result) ? result : [result];
    return lines.map((line) => `${JSON.stringify(line)}\n`).join("");
  }
  return `${JSON.stringify(result, null, 2)}\n`;
}

/**
 * Runs a jq program with jq itself, compiled to WebAssembly (`jq-wasm`), loaded only when
 * `--jq` is given. Strings print raw, as `gh --jq` prints them; other values as JSON.
 */
async function runJq(value: unknown, program: string, pretty: boolean): Promise<string> {
  const jq = await import("jq-wasm");
  try {
    const text = await jq.raw(JSON.stringify(value), program, pretty ? ["-r"] : ["-r", "-c"]);
    return text === "" || text.endsWith("\n") ? text : `${text}\n`;
  } catch (error) {
    const message = (error as Error).message.replace(/^Failed to execute JSON query: /, "");
    throw usageError(
      `--jq: ${message.trim()}`,
      "The program is jq's language: https://jqlang.org/manual/",
    );
  }
}

/** A field list as `--json` takes one: names separated by commas. */
const fieldList = /^[A-Za-z_]\w*(,[A-Za-z_]\w*)*$/;

/**
 * The command line with `--json` made unambiguous for the parser. `--json id,name` and
 * `--json=id,name` keep those fields (`--json-fields`); a word that is a command's name is never
 * taken as fields, so `asc-kit --json keys list` still works. `--jq` and `--ndjson` imply
 * `--json`. Nothing after `--` is touched.
 */
export function jsonArgs(args: readonly string[], commands: ReadonlySet<string>): string[] {
  const end = args.indexOf("--");
  const head = end === -1 ? [...args] : args.slice(0, end);
  const result: string[] = [];
  let json = false;
  for (let index = 0; index < head.length; index++) {
    const arg = head[index]!;
    const next = head[index + 1];
    if (arg.startsWith("--json=")) {
      result.push("--json", "--json-fields", arg.slice("--json=".length));
      json = true;
    } else if (
      arg === "--json" &&
      next !== undefined &&
      fieldList.test(next) &&
      !commands.has(next)
    ) {
      result.push("--json", "--json-fields", next);
      json = true;
      index++;
    } else {
      if (arg === "--json") json = true;
      result.push(arg);
      // The jq program is the next argument whatever it looks like.
      if (arg === "--jq" && next !== undefined) result.push(head[++index]!);
    }
  }
  const implied = head.some(
    (arg) => arg === "--jq" || arg.startsWith("--jq=") || arg === "--ndjson",
  );
  if (!json && implied) result.push("--json");
  return end === -1 ? result : [...result, ...args.slice(end)];
}
