import { ApiError, parseJsonBody } from "./http.js";
import type { packageControls } from "./resources/package-controls.js";

/** What the sandbox's own test controls can do over HTTP (the JavaScript controls, by name). */
type Controls = ReturnType<typeof packageControls>;

/** The prefix of the control endpoints: no path of Apple's starts with it. */
export const controlPrefix = "/sandbox/";

/**
 * The sandbox's test controls over HTTP, for a sandbox in another process (`asc-kit sandbox`)
 * and for the CLI's `asc-kit sandbox publish-version` and the rest: what Apple does on its own
 * time, acted out on request. Each takes the same bearer token as the API, a JSON body, and
 * answers JSON: 201 with the new id, or 202 once the notifications are queued; 404 for an
 * unknown id, 422 for a body that is not what the control needs.
 *
 * - `POST /sandbox/packages/{id}/versions` `{ "version"?: "2.0" }` → `{ "versionId" }`
 * - `POST /sandbox/packageVersions/{id}/deltas` → `{ "deltaId" }`
 * - `POST /sandbox/packages/{id}/availability` `{ "available": false }`
 * - `POST /sandbox/apps/{id}/withdrawal`
 * - `POST /sandbox/apps/{id}/territories` `{ "territories": ["DEU"], "available": false }`
 */
export async function runControl(
  controls: Controls,
  method: string,
  url: URL,
  body: string,
): Promise<[number, unknown]> {
  const [family, id, action, ...rest] = url.pathname.slice(controlPrefix.length).split("/");
  const route = `${family}/{id}/${action}`;
  if (!id || rest.length > 0 || !routes.has(route)) {
    throw new ApiError(
      404,
      "NOT_FOUND",
      "The specified resource does not exist",
      `The sandbox has no control at ${url.pathname}; see the sandbox's README, "Test controls".`,
    );
  }
  if (method !== "POST") {
    throw new ApiError(
      405,
      "METHOD_NOT_ALLOWED",
      "The request method is not allowed.",
      "Use POST.",
      undefined,
      {
        allow: "POST",
      },
    );
  }
  const input = (body === "" ? {} : parseJsonBody(body)) as Record<string, unknown> | null;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid("The body must be a JSON object.");
  }
  const decodedId = decodeURIComponent(id);
  try {
    return await routes.get(route)!(controls, decodedId, input);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // The controls refuse an unknown id and a bad argument alike with a TypeError: tell them apart.
    if (/^There is no /.test(error.message)) {
      throw new ApiError(404, "NOT_FOUND", "The specified resource does not exist", error.message);
    }
    throw invalid(error.message);
  }
}

type Control = (
  controls: Controls,
  id: string,
  input: Record<string, unknown>,
) => Promise<[number, unknown]>;

const routes = new Map<string, Control>([
  [
    "packages/{id}/versions",
    async (controls, id, { version }) => {
      if (version !== undefined && (typeof version !== "string" || version === "")) {
        throw invalid('"version" must be a version number such as "2.0", or left out.');
      }
      return [201, { versionId: await controls.publishPackageVersion(id, version) }];
    },
  ],
  [
    "packageVersions/{id}/deltas",
    async (controls, id) => [201, { deltaId: await controls.addDelta(id) }],
  ],
  [
    "packages/{id}/availability",
    async (controls, id, { available }) => {
      controls.setPackageAvailability(id, flag(available));
      return [202, { ok: true }];
    },
  ],
  [
    "apps/{id}/withdrawal",
    async (controls, id) => {
      controls.withdrawApp(id);
      return [202, { ok: true }];
    },
  ],
  [
    "apps/{id}/territories",
    async (controls, id, { territories, available }) => {
      if (!Array.isArray(territories) || !territories.every((code) => typeof code === "string")) {
        throw invalid('"territories" must list ISO 3166-1 alpha-3 codes, such as ["DEU", "FRA"].');
      }
      controls.setTerritoryAvailability(id, territories as string[], flag(available));
      return [202, { ok: true }];
    },
  ],
]);

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
