import { AppStoreConnectError, errorFromBody } from "@asc-kit/errors";
import type { Client, FetchOptions } from "openapi-fetch";
import type { paths } from "./generated/app-store-connect.js";
import { asAppStoreConnectError } from "./result.js";
import type { Result } from "./result.js";

/**
 * The paths whose GET answers with a page: `data` as an array and `links.next`. Of the
 * package's own paths by default, or of a consumer's (`PagedPath<MyPaths>`).
 */
export type PagedPath<Paths extends object = paths> = {
  [P in Extract<keyof Paths, string>]: Paths[P] extends {
    get: {
      responses: {
        200: { content: { "application/json": { data: unknown[]; links: { next?: string } } } };
      };
    };
  }
    ? P
    : never;
}[Extract<keyof Paths, string>];

/** What pagination reads of any page. */
interface PageBody {
  data: unknown[];
  links?: { next?: string };
  meta?: unknown;
}

/** A paged GET operation, as the generated paths type it. */
interface PagedGet {
  get: {
    responses: { 200: { content: { "application/json": { data: unknown[] } } } };
  };
}

/** One page of a paged path, as the spec types it. */
export type Page<
  P extends PagedPath<Paths>,
  Paths extends object = paths,
> = Paths[P] extends PagedGet
  ? Paths[P]["get"]["responses"][200]["content"]["application/json"]
  : never;

/** The request options of a paged path's GET. */
export type PageInit<
  P extends PagedPath<Paths>,
  Paths extends object = paths,
> = Paths[P] extends PagedGet ? FetchOptions<Paths[P]["get"]> : never;

/** Options of {@link paginate}. */
export interface PaginateOptions {
  /** The origin `links.next` may point to; default the client's `baseUrl`, else the first page's. */
  baseUrl?: string;
  /**
   * Stops, quietly, after this many pages. Without it, a chain longer than
   * {@link defaultMaxPages} ends with an `AppStoreConnectError` (`TOO_MANY_PAGES`), so that a
   * server that never stops cannot hold the caller forever and nothing is cut off silently.
   */
  maxPages?: number;
}

/** The most pages {@link paginate} follows when `maxPages` is not given: 200,000 items at 200 a page. */
export const defaultMaxPages = 1_000;

/**
 * Iterates over every page of a paged GET, following `links.next` (absolute, or relative to
 * the page as Apple's `uri-reference` allows). Keeps the caller's query (its `limit`
 * included) and every value of a repeated parameter in the link; refuses a link to another
 * origin or path (`UNTRUSTED_LINK`). Stops after an empty page, once `meta.paging.total` items
 * are in, when a link repeats, or at `maxPages`. A failed page throws an `AppStoreConnectError`;
 * nothing else is thrown.
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
export async function* paginate<
  Paths extends object = paths,
  P extends PagedPath<Paths> = PagedPath<Paths>,
>(
  client: Client<Paths>,
  path: P,
  init?: PageInit<P, Paths>,
  options: PaginateOptions = {},
): AsyncGenerator<Page<P, Paths>, void, undefined> {
  const get = client.GET as unknown as (
    path: string,
    init?: object,
  ) => Promise<{ data?: PageBody; error?: unknown; response: Response }>;
  const baseQuery = (init?.params as { query?: Record<string, unknown> } | undefined)?.query ?? {};
  const seen = new Set<string>();
  const maxPages = options.maxPages ?? defaultMaxPages;
  let origin = originOf(options.baseUrl ?? (client as { baseUrl?: unknown }).baseUrl);
  let nextSearch: string | undefined;
  let items = 0;
  for (let pageNumber = 1; ; pageNumber++) {
    const search = nextSearch;
    const { data, error, response } = await get(
      path,
      search === undefined ? init : { ...init, querySerializer: () => search },
    );
    const pageUrl = response.url || `${origin ?? ""}${path}`;
    if (!data) {
      throw errorFromBody(error, {
        status: response.status,
        headers: response.headers,
        method: "GET",
        url: pageUrl,
      });
    }
    yield data as Page<P, Paths>;
    const next = data.links?.next;
    items += Array.isArray(data.data) ? data.data.length : 0;
    const total = (data.meta as { paging?: { total?: unknown } } | undefined)?.paging?.total;
    if (!next || !Array.isArray(data.data) || data.data.length === 0) return;
    if (typeof total === "number" && items >= total) return;
    if (seen.has(next)) return;
    if (pageNumber >= maxPages) {
      if (options.maxPages !== undefined) return;
      throw new AppStoreConnectError({
        status: response.status,
        code: "TOO_MANY_PAGES",
        detail: `Stopped after ${maxPages} pages (${items} items) with links.next still set; pass maxPages to read further or to stop earlier on purpose.`,
        method: "GET",
        url: pageUrl,
      });
    }
    seen.add(next);
    origin ??= originOf(pageUrl);
    const nextUrl = trustedNext(next, pageUrl, origin, response.status);
    nextSearch = mergedSearch(nextUrl, baseQuery);
  }
}

/** Resolves `links.next` against the page and refuses any other origin or path. */
function trustedNext(
  next: string,
  pageUrl: string,
  origin: string | undefined,
  status: number,
): URL {
  let nextUrl: URL | undefined;
  try {
    nextUrl = new URL(next, pageUrl);
  } catch {
    nextUrl = undefined;
  }
  const page = originOf(pageUrl) ? new URL(pageUrl) : undefined;
  const reason = !nextUrl
    ? "it is not a valid URL"
    : nextUrl.origin !== origin
      ? `it points to ${nextUrl.origin}, and only ${origin ?? "the client's base URL"} is trusted with the token`
      : page && nextUrl.pathname !== page.pathname
        ? `it leads from ${page.pathname} to another path, ${nextUrl.pathname}`
        : undefined;
  if (reason || !nextUrl) {
    throw new AppStoreConnectError({
      status,
      code: "UNTRUSTED_LINK",
      detail: `Refusing to follow links.next: ${reason}.`,
      method: "GET",
      url: pageUrl,
    });
  }
  return nextUrl;
}

/**
 * The next page's query as the link has it (every value of a repeated parameter, Apple's own
 * encoding), plus the caller's parameters that the link leaves out.
 */
function mergedSearch(nextUrl: URL, baseQuery: Record<string, unknown>): string {
  const parts = nextUrl.search ? [nextUrl.search.slice(1)] : [];
  for (const [name, value] of Object.entries(baseQuery)) {
    if (value === undefined || value === null || nextUrl.searchParams.has(name)) continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0) continue;
    parts.push(`${name}=${values.map((entry) => encodeURIComponent(String(entry))).join(",")}`);
  }
  return parts.join("&");
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
export async function* paginateItems<
  Paths extends object = paths,
  P extends PagedPath<Paths> = PagedPath<Paths>,
>(
  client: Client<Paths>,
  path: P,
  init?: PageInit<P, Paths>,
  options?: PaginateOptions,
): AsyncGenerator<Page<P, Paths>["data"][number], void, undefined> {
  for await (const page of paginate(client, path, init, options)) {
    yield* (page as PageBody).data as Array<Page<P, Paths>["data"][number]>;
  }
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
export async function collectItems<
  Paths extends object = paths,
  P extends PagedPath<Paths> = PagedPath<Paths>,
>(
  client: Client<Paths>,
  path: P,
  init?: PageInit<P, Paths>,
): Promise<Result<Page<P, Paths>["data"][number][]>> {
  const items: Page<P, Paths>["data"][number][] = [];
  try {
    for await (const item of paginateItems(client, path, init)) items.push(item);
    return { data: items, response: undefined };
  } catch (error) {
    return { error: asAppStoreConnectError(error, "GET", path), response: undefined };
  }
}
