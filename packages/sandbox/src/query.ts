import { parameterError } from "./http.js";

/** A query parameter as the excerpt declares it. */
export interface DeclaredParameter {
  /** A comma-separated list (`style: form, explode: false`), such as `include` and `fields[…]`. */
  list: boolean;
  /** The values it may take, when the excerpt lists them. */
  values?: readonly string[];
  /** The largest whole number it may be (`limit`, `limit[…]`). */
  maximum?: number;
}

/** An operation of the excerpt and the query parameters it declares. */
export interface DeclaredOperation {
  operationId: string;
  method: string;
  path: string;
  query: Readonly<Record<string, DeclaredParameter>>;
}

/** A JSON:API resource object as the resource families build it. */
export interface ResourceObject {
  type: string;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, Relationship>;
  links?: unknown;
}

interface Relationship {
  data?: Linkage | Linkage[] | null;
  [key: string]: unknown;
}

interface Linkage {
  type: string;
  id: string;
}

/** Finds the whole resource behind a linkage, for `include`; undefined when it is gone. */
export type ResolveResource = (type: string, id: string) => ResourceObject | undefined;

/** Where each resource family says how to find its resources by id, for `include`. */
export class ResourceRegistry {
  readonly #finders = new Map<string, (id: string) => ResourceObject | undefined>();

  /** How to find a resource of `type` by id. */
  define(type: string, find: (id: string) => ResourceObject | undefined): void {
    this.#finders.set(type, find);
  }

  readonly resolve: ResolveResource = (type, id) => this.#finders.get(type)?.(id);
}

/**
 * How many related resources an included to-many relationship carries without `limit[…]`.
 * Apple documents only the maximum (50); App Store Connect answers with 10.
 */
export const defaultIncludedLimit = 10;

/** The most values an error message lists before it says how many there are. */
const listedValues = 12;

/**
 * Refuses, as App Store Connect does with a 400 naming the parameter, any query parameter the
 * operation does not declare, a value outside the declared ones, a parameter given twice, and
 * a number that is not a whole number from 1 to the declared maximum. The cursor itself is
 * checked where the page is made.
 */
export function checkQuery(operation: DeclaredOperation, url: URL): void {
  for (const name of new Set(url.searchParams.keys())) {
    // Apple's description declares no `cursor`, but its `links.next` carry one on every list.
    if (name === "cursor" && operation.query.limit) continue;
    const declared = operation.query[name];
    if (!declared) {
      throw parameterError(name, `The parameter '${name}' can not be used with this request.`);
    }
    const given = url.searchParams.getAll(name);
    if (given.length > 1) {
      throw parameterError(
        name,
        `'${name}' is given ${given.length} times; give it once${declared.list ? ", with its values separated by commas" : ""}.`,
      );
    }
    const value = given[0]!;
    if (declared.values) checkValues(name, value, declared);
    if (declared.maximum !== undefined) {
      const number = Number(value);
      if (!/^\d+$/.test(value) || number < 1 || number > declared.maximum) {
        throw parameterError(
          name,
          `'${value.slice(0, 50)}' is not a valid value for '${name}'; use a whole number from 1 to ${declared.maximum}.`,
        );
      }
    }
  }
}

function checkValues(name: string, value: string, declared: DeclaredParameter): void {
  const allowed = declared.values!;
  for (const item of declared.list ? value.split(",") : [value]) {
    if (allowed.includes(item)) continue;
    const shown =
      allowed.length > listedValues
        ? `${allowed.slice(0, listedValues).join(", ")}, … (${allowed.length} in all)`
        : allowed.join(", ");
    throw parameterError(
      name,
      `'${item.slice(0, 50)}' is not a valid value for '${name}'; use ${shown}.`,
    );
  }
}

/**
 * Shapes a document the way the request asks, for every family alike: `include` adds the
 * related resources under `included` (once each) and gives the relationship its linkage (to-many
 * ones at most `limit[…]`, with `meta.paging`); to-many linkage not asked for is left out, as
 * Apple does; `fields[type]` keeps only the named attributes and relationships of each resource
 * of that type, primary or included.
 */
export function shapeDocument(url: URL, document: unknown, resolve: ResolveResource): unknown {
  if (typeof document !== "object" || document === null || !("data" in document)) return document;
  const { data } = document as { data: unknown };
  const primary = (Array.isArray(data) ? data : [data]).filter(isResourceObject);
  if (primary.length === 0) return document;
  const include = listParameter(url, "include") ?? [];
  const seen = new Set(primary.map((resource) => `${resource.type}/${resource.id}`));
  const included: ResourceObject[] = [];
  const addIncluded = ({ type, id }: Linkage) => {
    const key = `${type}/${id}`;
    if (seen.has(key)) return;
    seen.add(key);
    const related = resolve(type, id);
    if (related) included.push(shapeResource(url, related, [], () => undefined));
  };
  const shaped = primary.map((resource) => shapeResource(url, resource, include, addIncluded));
  return {
    ...document,
    data: Array.isArray(data) ? shaped : shaped[0],
    ...(include.length > 0 ? { included } : {}),
  };
}

function shapeResource(
  url: URL,
  resource: ResourceObject,
  include: readonly string[],
  addIncluded: (linkage: Linkage) => void,
): ResourceObject {
  const relationships: Record<string, Relationship> = {};
  for (const [name, relationship] of Object.entries(resource.relationships ?? {})) {
    const wanted = include.includes(name);
    if (Array.isArray(relationship.data)) {
      const { data: all, ...rest } = relationship;
      if (!wanted) {
        relationships[name] = rest;
        continue;
      }
      const limit = Number(url.searchParams.get(`limit[${name}]`) ?? defaultIncludedLimit);
      const data = all.slice(0, limit);
      data.forEach(addIncluded);
      relationships[name] = { ...rest, meta: { paging: { total: all.length, limit } }, data };
    } else {
      if (wanted && relationship.data) addIncluded(relationship.data);
      relationships[name] = relationship;
    }
  }
  const fields = listParameter(url, `fields[${resource.type}]`);
  const keep = fields && new Set([...fields, ...include]);
  return {
    ...resource,
    ...(resource.attributes
      ? { attributes: fields ? pick(resource.attributes, new Set(fields)) : resource.attributes }
      : {}),
    ...(resource.relationships
      ? {
          relationships: keep ? pick(relationships, keep) : relationships,
        }
      : {}),
  };
}

/** A resource object rather than bare linkage: it has attributes or relationships. */
function isResourceObject(value: unknown): value is ResourceObject {
  return (
    typeof value === "object" &&
    value !== null &&
    ("attributes" in value || "relationships" in value)
  );
}

/** The values of a comma-separated parameter, or undefined when it is absent. */
function listParameter(url: URL, name: string): string[] | undefined {
  const value = url.searchParams.get(name);
  return value === null ? undefined : value.split(",");
}

/** Only the members named in `names`. */
export function pick<T>(members: Record<string, T>, names: ReadonlySet<string>): Record<string, T> {
  return Object.fromEntries(Object.entries(members).filter(([name]) => names.has(name)));
}
