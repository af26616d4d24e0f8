import { errorFromBody } from "@asc-kit/errors";
import type { Client, FetchOptions } from "openapi-fetch";
import type { paths } from "./generated/app-store-connect.js";
import { asAppStoreConnectError } from "./result.js";
import type { Result } from "./result.js";

/** The paths whose GET answers with a page: `data` as an array and `links.next`. */
export type PagedPath = {
  [P in keyof paths]: paths[P] extends {
    get: {
      responses: {
        200: { content: { "application/json": { data: unknown[]; links: { next?: string } } } };
      };
    };
  }
    ? P
    : never;
}[keyof paths];

/** One page of a paged path, as the spec types it. */
export type Page<P extends PagedPath> =
  paths[P]["get"]["responses"][200]["content"]["application/json"];

/** The request options of a paged path's GET. */
export type PageInit<P extends PagedPath> = FetchOptions<paths[P]["get"]>;

/** Options of {@link paginate}. */
export interface PaginateOptions {
  /** The origin `links.next` may point to; default the client's `baseUrl`, else the first page's. */
  baseUrl?: string;
  /** Stops after this many pages. Default no limit. */
  maxPages?: number;
}

/**
 * Iterates over every page of a paged GET, following `links.next`. Keeps the caller's query
 * (its `limit` included), refuses a `next` link on another origin or path, and stops when a
 * link repeats. A failed page throws an `AppStoreConnectError`.
 *
 * @example
 * ```ts
 * import { paginate } from "@asc-kit/core";
 *
 * for await (const page of paginate(client, "/v1/alternativeDistributionKeys", { params: { query: { limit: 200 } } })) {
 *   console.log(page.data.length, page.meta?.paging.total);
 * }
 * ```
 */
export async function* paginate<P extends PagedPath>(
  client: Client<paths>,
  path: P,
  init?: PageInit<P>,
  options: PaginateOptions = {},
): AsyncGenerator<Page<P>, void, undefined> {
  const get = client.GET as unknown as (
    path: string,
    init?: object,
  ) => Promise<{ data?: Page<P>; error?: unknown; response: Response }>;
  const baseQuery = (init?.params as { query?: Record<string, unknown> } | undefined)?.query ?? {};
  const seen = new Set<string>();
  let query: Record<string, unknown> = baseQuery;
  let origin = originOf(options.baseUrl ?? (client as { baseUrl?: unknown }).baseUrl);
  for (let pageNumber = 1; ; pageNumber++) {
    const { data, error, response } = await get(path, {
      ...init,
      params: { ...init?.params, query },
    });
    if (!data) {
      throw errorFromBody(error, {
        status: response.status,
        headers: response.headers,
        method: "GET",
        url: response.url,
      });
    }
    yield data;
    const next = data.links.next;
    if (!next || (options.maxPages !== undefined && pageNumber >= options.maxPages)) return;
    if (seen.has(next)) return;
    seen.add(next);
    origin ??= originOf(response.url);
    const nextUrl = originOf(next) ? new URL(next) : undefined;
    if (!origin || nextUrl?.origin !== origin) {
      throw new TypeError(
        `Refusing to follow links.next to ${nextUrl?.origin ?? "a relative or invalid URL"}: only ${origin ?? "the client's base URL"} is trusted with the token.`,
      );
    }
    const pagePath = response.url ? new URL(response.url).pathname : undefined;
    if (pagePath !== undefined && nextUrl.pathname !== pagePath) {
      throw new TypeError(
        `Refusing to follow links.next from ${pagePath} to another path, ${nextUrl.pathname}.`,
      );
    }
    query = { ...baseQuery, ...Object.fromEntries(nextUrl.searchParams) };
  }
}

/**
 * Iterates over the items of every page of a paged GET. See {@link paginate}.
 *
 * @example
 * ```ts
 * import { paginateItems } from "@asc-kit/core";
 *
 * for await (const key of paginateItems(client, "/v1/alternativeDistributionKeys")) console.log(key.id);
 * ```
 */
export async function* paginateItems<P extends PagedPath>(
  client: Client<paths>,
  path: P,
  init?: PageInit<P>,
  options?: PaginateOptions,
): AsyncGenerator<Page<P>["data"][number], void, undefined> {
  for await (const page of paginate(client, path, init, options)) yield* page.data;
}

function originOf(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/**
 * Every item of every page, folded into a {@link Result}: the data, or the error of the first
 * page that failed. The typed list helpers are built on it.
 */
export async function collectItems<P extends PagedPath>(
  client: Client<paths>,
  path: P,
  init?: PageInit<P>,
): Promise<Result<Page<P>["data"][number][]>> {
  const items: Page<P>["data"][number][] = [];
  try {
    for await (const item of paginateItems(client, path, init)) items.push(item);
    return { data: items, response: undefined };
  } catch (error) {
    return { error: asAppStoreConnectError(error, "GET", path), response: undefined };
  }
}
