/** Pieces of App Store Connect's HTTP behaviour shared by the sandbox's endpoints. */

const defaultPageSize = 50;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly source?: { pointer: string } | { parameter: string },
    /** Headers to send with the error, such as `Allow` on a 405. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

/** One page of `items` for a list request: `limit`, an opaque `cursor`, links and meta.paging. */
export function pageOf<T>(url: URL, items: readonly T[], toResource: (item: T) => unknown) {
  const limit = readLimit(url);
  const cursor = url.searchParams.get("cursor");
  const offset = cursor === null ? 0 : decodeCursor(cursor);
  const nextOffset = offset + limit < items.length ? offset + limit : undefined;
  const first = new URL(url);
  first.searchParams.delete("cursor");
  const next = nextOffset === undefined ? undefined : new URL(first);
  next?.searchParams.set("cursor", encodeCursor(nextOffset!));
  return {
    data: items.slice(offset, offset + limit).map(toResource),
    links: { self: selfLink(url), first: first.href, ...(next ? { next: next.href } : {}) },
    meta: {
      paging: {
        total: items.length,
        limit,
        ...(nextOffset !== undefined ? { nextCursor: encodeCursor(nextOffset) } : {}),
      },
    },
  };
}

/** The request URL with its query percent-encoded (`fields%5B…%5D`), a valid URI reference. */
export function selfLink(url: URL): string {
  const link = new URL(url.pathname, url);
  link.search = new URLSearchParams(url.searchParams).toString();
  return link.href;
}

/** `limit`, checked against the excerpt's maximum before the handler runs. */
function readLimit(url: URL): number {
  const value = url.searchParams.get("limit");
  return value === null ? defaultPageSize : Number(value);
}

function encodeCursor(offset: number): string {
  return btoa(JSON.stringify({ offset }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function decodeCursor(cursor: string): number {
  try {
    const text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const { offset } = JSON.parse(text) as { offset: unknown };
    if (Number.isInteger(offset) && (offset as number) >= 0) return offset as number;
  } catch {
    // Reported below.
  }
  throw parameterError("cursor", "The cursor is not valid; use the links.next of a previous page.");
}

export function parameterError(parameter: string, detail: string): ApiError {
  return new ApiError(400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", detail, {
    parameter,
  });
}

export function notFound(type: string, id: string): ApiError {
  return new ApiError(
    404,
    "NOT_FOUND",
    "The specified resource does not exist",
    `There is no resource of type '${type}' with id '${id}'.`,
  );
}

export function methodNotAllowed(method: string, url: URL, allow: readonly string[]): ApiError {
  return new ApiError(
    405,
    "METHOD_NOT_ALLOWED",
    "The request method is not allowed.",
    `${method} is not allowed on ${url.pathname}; use ${allow.join(", ")}.`,
    undefined,
    { allow: allow.join(", ") },
  );
}

/** Parses a request body, answering 400 for malformed JSON as App Store Connect does. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ApiError(
      400,
      "ENTITY_ERROR.JSON_INVALID",
      "The request entity is not valid JSON.",
      "The request body could not be parsed as JSON.",
    );
  }
}
