import { componentOf } from "./spec-tools.js";
import type { Document, Node } from "./spec-tools.js";

/** Thrown for an `--include` name that none of the operations can include. */
export class UnknownIncludeError extends Error {
  constructor(
    readonly names: readonly string[],
    readonly available: readonly string[],
  ) {
    super(
      `None of the operations can include ${names.join(", ")}. ` +
        (available.length > 0
          ? `They can include: ${available.join(", ")}.`
          : "They take no include parameter: leave --include out."),
    );
    this.name = "UnknownIncludeError";
  }
}

interface Parameter {
  name?: string;
  in?: string;
  schema?: { items?: { enum?: string[] } };
}

/**
 * An upstream operation narrowed to the related resources a user asked to include: the
 * `include` values, the `limit[…]` and `fields[type]` parameters of the others are dropped, and
 * the response's `included` lists only the kept types. Returns the narrowed operation and the
 * response schemas to put in place of upstream's (merged with what the excerpt already allows,
 * so that an operation added before keeps its includes). Apple's `apps_getCollection` pulls
 * half of Apple's schemas through its includes; without them it is a few kilobytes.
 */
export function narrowIncludes(
  upstream: Document,
  excerpt: Document,
  operation: Node,
  keep: ReadonlySet<string>,
): { operation: Node; schemas: Record<string, Node>; includable: string[] } {
  const schemas = (upstream.components?.schemas ?? {}) as Record<string, Node>;
  const parameters = (operation.parameters ?? []) as Parameter[];
  const includable =
    parameters.find((p) => p.in === "query" && p.name === "include")?.schema?.items?.enum ?? [];
  const primary = primarySchema(schemas, operation);
  const typeOf = (relationship: string) =>
    typeEnum(
      dig(primary, "properties", "relationships", "properties", relationship, "properties", "data"),
    );
  const keptRelationships = includable.filter((name) => keep.has(name));
  const keptTypes = new Set([
    typeEnum(dig(primary, "properties", "type")),
    ...keptRelationships.map(typeOf),
  ]);
  const narrowed = parameters.flatMap((parameter): Parameter[] => {
    const name = parameter.name ?? "";
    if (parameter.in !== "query") return [parameter];
    if (name === "include") {
      if (keptRelationships.length === 0) return [];
      return [
        { ...parameter, schema: { ...parameter.schema, items: { enum: keptRelationships } } },
      ];
    }
    const limited = /^limit\[(.+)\]$/.exec(name)?.[1];
    if (limited !== undefined) return keep.has(limited) ? [parameter] : [];
    const fieldsOf = /^fields\[(.+)\]$/.exec(name)?.[1];
    if (fieldsOf !== undefined) return keptTypes.has(fieldsOf) ? [parameter] : [];
    return [parameter];
  });
  const replaced: Record<string, Node> = {};
  for (const name of responseSchemaNames(operation)) {
    const schema = schemas[name];
    const ours = excerpt.components?.schemas?.[name] as Node | undefined;
    if (schema) replaced[name] = narrowIncluded(schema, ours, schemas, keptTypes);
  }
  return { operation: { ...operation, parameters: narrowed }, schemas: replaced, includable };
}

/** A response schema whose `included` lists only kept types, and those the excerpt had. */
function narrowIncluded(
  schema: Node,
  ours: Node | undefined,
  schemas: Record<string, Node>,
  keptTypes: ReadonlySet<string | undefined>,
): Node {
  const items = dig(schema, "properties", "included", "items") as Node | undefined;
  const choices = (items?.oneOf ?? []) as Array<{ $ref?: string }>;
  if (choices.length === 0) return schema;
  const already = new Set(
    ((dig(ours, "properties", "included", "items", "oneOf") ?? []) as Array<{ $ref?: string }>).map(
      (choice) => choice.$ref,
    ),
  );
  const kept = choices.filter(
    (choice) =>
      already.has(choice.$ref) ||
      keptTypes.has(typeEnum(dig(schemaAt(schemas, choice.$ref), "properties", "type"))),
  );
  const properties = { ...(schema.properties as Node) };
  if (kept.length === 0) delete properties.included;
  else {
    const included = properties.included as Node;
    const refs = new Set(kept.map((choice) => choice.$ref));
    const discriminator = items!.discriminator as { mapping?: Record<string, string> } | undefined;
    properties.included = {
      ...included,
      items: {
        ...items,
        oneOf: kept,
        ...(discriminator?.mapping
          ? {
              discriminator: {
                ...discriminator,
                mapping: Object.fromEntries(
                  Object.entries(discriminator.mapping).filter(([, ref]) => refs.has(ref)),
                ),
              },
            }
          : {}),
      },
    };
  }
  return { ...schema, properties };
}

/** The schema of the resources an operation answers with: its 200's `data`. */
function primarySchema(schemas: Record<string, Node>, operation: Node): Node | undefined {
  for (const name of responseSchemaNames(operation)) {
    const data = dig(schemas[name], "properties", "data") as Node | undefined;
    const ref = ((data?.items as Node | undefined)?.$ref ?? data?.$ref) as string | undefined;
    if (ref) return schemaAt(schemas, ref);
  }
  return undefined;
}

function responseSchemaNames(operation: Node): string[] {
  const ok = dig(operation, "responses", "200", "content", "application/json", "schema") as
    { $ref?: string } | undefined;
  return ok?.$ref ? [componentOf(ok.$ref)[1]] : [];
}

/** The one value of a `type` property's enum, also through an array's items. */
function typeEnum(node: unknown): string | undefined {
  const direct = node as { enum?: string[]; items?: unknown; properties?: { type?: unknown } };
  const type = (direct?.properties?.type ??
    (direct?.items as { properties?: { type?: unknown } })?.properties?.type ??
    direct) as { enum?: string[] };
  return type?.enum?.[0];
}

/** The schema a `$ref` names, when it names one. */
function schemaAt(schemas: Record<string, Node>, ref: string | undefined): Node | undefined {
  return ref === undefined ? undefined : schemas[componentOf(ref)[1]];
}

function dig(node: unknown, ...path: string[]): unknown {
  let current = node;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
