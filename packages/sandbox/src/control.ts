import { ApiError, parseJsonBody } from "./http.js";
import { UnknownIdError } from "./resources/package-controls.js";
import type { packageControls } from "./resources/package-controls.js";
import { Router } from "./router.js";
import type { RouteResult } from "./router.js";

/** What the sandbox's own test controls can do over HTTP (the JavaScript controls, by name). */
type Controls = ReturnType<typeof packageControls>;

/** The prefix of the control endpoints: no path of Apple's starts with it. */
export const controlPrefix = "/sandbox/";

/**
 * The sandbox's test controls over HTTP, for a sandbox in another process (`asc-kit sandbox`)
 * and for the CLI's `asc-kit sandbox publish-version` and the rest: what Apple does on its own
 * time, acted out on request. Each takes the same bearer token as the API, a JSON body, and
 * answers JSON: 201 with the new id, or 202 once the notifications are queued; 404 for an
 * unknown id, 422 for a body that is not what the control needs, 405 for another method.
 *
 * - `POST /sandbox/packages/{id}/versions` `{ "version"?: "2.0" }` → `{ "versionId" }`
 * - `POST /sandbox/packageVersions/{id}/deltas` → `{ "deltaId" }`
 * - `POST /sandbox/packages/{id}/availability` `{ "available": false }`
 * - `POST /sandbox/apps/{id}/withdrawal`
 * - `POST /sandbox/apps/{id}/territories` `{ "territories": ["DEU"], "available": false }`
 */
export function controlRoutes(controls: Controls) {
  const router = new Router()
    .on("POST", "/sandbox/packages/{id}/versions", async ({ params, body }) => {
      const { version } = objectOf(body);
      if (version !== undefined && (typeof version !== "string" || version === "")) {
        throw invalid('"version" must be a version number such as "2.0", or left out.');
      }
      return [201, { versionId: await controls.publishPackageVersion(params.id!, version) }];
    })
    .on("POST", "/sandbox/packageVersions/{id}/deltas", async ({ params }) => [
      201,
      { deltaId: await controls.addDelta(params.id!) },
    ])
    .on("POST", "/sandbox/packages/{id}/availability", ({ params, body }) => {
      controls.setPackageAvailability(params.id!, flag(objectOf(body).available));
      return queued;
    })
    .on("POST", "/sandbox/apps/{id}/withdrawal", ({ params }) => {
      controls.withdrawApp(params.id!);
      return queued;
    })
    .on("POST", "/sandbox/apps/{id}/territories", ({ params, body }) => {
      const { territories, available } = objectOf(body);
      if (!Array.isArray(territories) || !territories.every((code) => typeof code === "string")) {
        throw invalid('"territories" must list ISO 3166-1 alpha-3 codes, such as ["DEU", "FRA"].');
      }
      controls.setTerritoryAvailability(params.id!, territories as string[], flag(available));
      return queued;
    });
  return {
    handle: (method: string, url: URL, body: string): Promise<RouteResult> =>
      router.handle(method, url, body, async (_route, request, handler) => {
        try {
          return await handler(request);
        } catch (error) {
          if (error instanceof UnknownIdError) {
            throw new ApiError(
              404,
              "NOT_FOUND",
              "The specified resource does not exist",
              error.message,
            );
          }
          // The controls' other refusals are TypeErrors naming what was wrong with the input.
          if (error instanceof TypeError) throw invalid(error.message);
          throw error;
        }
      }),
    methodsOf: (url: URL) => router.methodsOf(url),
  };
}

const queued: RouteResult = [202, { ok: true }];

/** The body as a JSON object; none is `{}`. */
function objectOf(body: string): Record<string, unknown> {
  const input = body === "" ? {} : parseJsonBody(body);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid("The body must be a JSON object.");
  }
  return input as Record<string, unknown>;
}

function flag(value: unknown): boolean {
  if (typeof value !== "boolean") throw invalid('"available" must be true or false.');
  return value;
}

function invalid(detail: string): ApiError {
  return new ApiError(
    422,
    "ENTITY_ERROR.ATTRIBUTE.INVALID",
    "An attribute value is invalid.",
    detail,
  );
}
