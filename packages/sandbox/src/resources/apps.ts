import { ApiError, allowQuery, notFound } from "../http.js";
import type { ResourceFamily } from "./context.js";
import { singleKey } from "./keys.js";

/** An app's alternative distribution key: the related resource and the relationship's linkage. */
export const appRoutes: ResourceFamily = (router, context) => {
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
      allowQuery(url, []);
      return [
        200,
        {
          data: { type: "alternativeDistributionKeys", id: key.id },
          links: { self: url.href },
        },
      ];
    });
};
