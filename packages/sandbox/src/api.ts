import { declaredOperations } from "./generated/operations.js";
import { checkQuery, shapeDocument } from "./query.js";
import type { DeclaredOperation } from "./query.js";
import type { ResourceContext, ResourceFamily } from "./resources/context.js";
import { Router } from "./router.js";
import type { RouteResult } from "./router.js";

const byRoute = new Map(
  declaredOperations.map((operation) => [`${operation.method} ${operation.path}`, operation]),
);
/** What a route outside the excerpt accepts: no query parameter at all. */
const undeclared: DeclaredOperation = { operationId: "", method: "", path: "", query: {} };

/**
 * The API's routes with what they all share, driven by the excerpt: each request's query is
 * checked against the parameters its operation declares, and each answer is shaped by
 * `include`, `fields[…]` and `limit[…]`, so a resource family only builds whole resources.
 */
export function createApi(families: readonly ResourceFamily[], context: ResourceContext) {
  const router = new Router();
  for (const family of families) family(router, context);
  return {
    /** Every route as `METHOD /pattern`. */
    routes: () => router.routes(),
    handle(method: string, url: URL, body: string): Promise<RouteResult> {
      return router.handle(method, url, body, async (route, request, handler) => {
        checkQuery(byRoute.get(route) ?? undeclared, request.url);
        const [status, payload] = await handler(request);
        return status >= 200 && status < 300 && payload !== undefined
          ? [status, shapeDocument(request.url, payload, context.resources.resolve)]
          : [status, payload];
      });
    },
    /** The methods a path allows, for OPTIONS. */
    methodsOf: (url: URL) => router.methodsOf(url),
  };
}
