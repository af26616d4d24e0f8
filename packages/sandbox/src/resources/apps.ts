import { ApiError, notFound } from "../http.js";
import type { ResourceFamily } from "./context.js";
import { singleKey } from "./keys.js";

/**
 * An app's basic attributes. The sandbox's apps are ids alone, so these are made from the id,
 * the same on every run: `Sandbox App 6476788026`, `com.example.sandbox.app6476788026`.
 */
export function appAttributes(appId: string) {
  return {
    name: `Sandbox App ${appId}`,
    bundleId: `com.example.sandbox.app${appId}`,
    sku: `SANDBOX-${appId}`,
    primaryLocale: "en-US",
  };
}

/**
 * Apps, as `include=app` gives them, and an app's alternative distribution key: the related
 * resource and the relationship's linkage.
 */
export const appRoutes: ResourceFamily = (router, context) => {
  context.resources.define("apps", (id) =>
    context.data.apps.includes(id)
      ? {
          type: "apps",
          id,
          attributes: appAttributes(id),
          links: { self: `${context.baseUrl}/v1/apps/${id}` },
        }
      : undefined,
  );
  const keyOf = (appId: string) => {
    if (!context.data.apps.includes(appId)) throw notFound("apps", appId);
    const key = context.data.keys.find((candidate) => candidate.appId === appId);
    if (!key) {
      throw new ApiError(
        404,
        "NOT_FOUND",
        "The specified resource does not exist",
        `The app with id '${appId}' has no alternative distribution key.`,
      );
    }
    return key;
  };

  router
    .on("GET", "/v1/apps/{id}/alternativeDistributionKey", ({ url, params }) => [
      200,
      singleKey(context, keyOf(params.id!), url),
    ])
    .on("GET", "/v1/apps/{id}/relationships/alternativeDistributionKey", ({ url, params }) => {
      const key = keyOf(params.id!);
      return [
        200,
        {
          data: { type: "alternativeDistributionKeys", id: key.id },
          links: { self: url.href },
        },
      ];
    });
};
