import { ApiError, methodNotAllowed } from "./http.js";

/** What a route handler gets: the request as the sandbox sees it. */
export interface RouteRequest {
  method: string;
  /** The request URL rebased on the sandbox's own base URL (never the Host header's). */
  url: URL;
  /** The `{name}` segments of the route's pattern, decoded. */
  params: Readonly<Record<string, string>>;
  /** The request body as text ("" when there is none). */
  body: string;
}

/** A status and a JSON payload; no payload for 204. */
export type RouteResult = readonly [status: number, payload?: unknown];

export type RouteHandler = (request: RouteRequest) => RouteResult | Promise<RouteResult>;

interface Route {
  method: string;
  segments: readonly string[];
  handler: RouteHandler;
}

/**
 * The sandbox's router: patterns such as `/v1/apps/{id}/alternativeDistributionKey`, one
 * handler per method. Written here rather than taken from a library because it needs only
 * exact segments and `{name}` captures, and must answer 405 with `Allow` and HEAD as GET,
 * which takes a few dozen lines.
 */
export class Router {
  readonly #routes: Route[] = [];

  /** Adds a route; `pattern` segments in braces capture one path segment. */
  on(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method, segments: pattern.split("/").slice(1), handler });
    return this;
  }

  /**
   * Runs the handler for a request: 404 for an unknown path, 405 (with Allow) for a method.
   * `around` gets the route's method and pattern (`GET /v1/apps/{id}/webhooks`) and the handler,
   * for what every route shares, such as checking the query against the excerpt.
   */
  async handle(
    method: string,
    url: URL,
    body: string,
    around: (route: string, request: RouteRequest, handler: RouteHandler) => Promise<RouteResult>,
  ): Promise<RouteResult> {
    const segments = url.pathname.replace(/\/+$/, "").split("/").slice(1);
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = match(route.segments, segments);
      if (!params) continue;
      // HEAD is GET without the body, as HTTP has it.
      if (route.method === method || (method === "HEAD" && route.method === "GET")) {
        const pattern = `${route.method} /${route.segments.join("/")}`;
        return around(pattern, { method, url, params, body }, route.handler);
      }
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      if (allowed.includes("GET")) allowed.push("HEAD");
      throw methodNotAllowed(method, url, allowed);
    }
    throw new ApiError(
      404,
      "NOT_FOUND",
      "The specified resource does not exist",
      `The path ${url.pathname} does not match a resource type of this sandbox.`,
    );
  }

  /** Every route as `METHOD /pattern`, for checking them against the excerpt. */
  routes(): string[] {
    return this.#routes.map((route) => `${route.method} /${route.segments.join("/")}`);
  }

  /** The methods a path allows, for OPTIONS; empty when the path is unknown. */
  methodsOf(url: URL): string[] {
    const segments = url.pathname.replace(/\/+$/, "").split("/").slice(1);
    const methods = this.#routes
      .filter((route) => match(route.segments, segments))
      .map((route) => route.method);
    return methods.includes("GET") ? [...methods, "HEAD"] : methods;
  }
}

function match(
  pattern: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, expected] of pattern.entries()) {
    const actual = path[index]!;
    if (expected.startsWith("{")) {
      if (actual === "") return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
      params[expected.slice(1, -1)] = decoded;
    } else if (expected !== actual) return undefined;
  }
  return params;
}
