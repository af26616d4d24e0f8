import { ApiError, notFound, pageOf, selfLink } from "../http.js";
import { isLoopback } from "../notifier.js";
import type { StoredMarketplaceWebhook, StoredSearchDetail } from "../state.js";
import type { ResourceFamily } from "./context.js";
import {
  attributesOf,
  invalidAttribute,
  readDocument,
  relatedId,
  requireAccountApp,
  requiredAttribute,
  sameId,
  textAttribute,
  urlAttribute,
} from "./validation.js";

/**
 * What a marketplace registers: the deprecated `/v1/marketplaceWebhooks` (one endpoint per
 * account, a 409 for a second; the secret write-only) and `/v1/marketplaceSearchDetails` (one
 * catalog per app, its `catalogUrl` an https URL on a registered distribution domain).
 */
export const marketplaceRoutes: ResourceFamily = (router, context) => {
  const endpoints = (context.data.marketplaceWebhooks ??= []);
  const details = (context.data.searchDetails ??= []);
  const base = () => context.baseUrl;

  const endpointResource = (endpoint: StoredMarketplaceWebhook) => ({
    type: "marketplaceWebhooks",
    id: endpoint.id,
    attributes: { endpointUrl: endpoint.endpointUrl },
    links: { self: `${base()}/v1/marketplaceWebhooks/${endpoint.id}` },
  });
  const findEndpoint = (id: string) => {
    const endpoint = endpoints.find((item) => item.id === id);
    if (!endpoint) throw notFound("marketplaceWebhooks", id);
    return endpoint;
  };
  const single = (endpoint: StoredMarketplaceWebhook) => ({
    data: endpointResource(endpoint),
    links: { self: `${base()}/v1/marketplaceWebhooks/${endpoint.id}` },
  });

  router
    .on("GET", "/v1/marketplaceWebhooks", ({ url }) => [
      200,
      pageOf(url, endpoints, endpointResource),
    ])
    .on("POST", "/v1/marketplaceWebhooks", async ({ body }) => {
      const data = readDocument(body, "marketplaceWebhooks");
      const attributes = attributesOf(data);
      requiredAttribute(attributes, "endpointUrl");
      requiredAttribute(attributes, "secret");
      if (endpoints.length > 0) {
        throw new ApiError(
          409,
          "ENTITY_ERROR.ALREADY_EXISTS",
          "The resource already exists.",
          `The account has a marketplace webhook already (${endpoints[0]!.id}): there is one per account; change it with PATCH.`,
        );
      }
      const endpoint: StoredMarketplaceWebhook = {
        id: crypto.randomUUID(),
        endpointUrl: urlAttribute(attributes, "endpointUrl", isLoopback)!,
        secret: textAttribute(attributes, "secret")!,
      };
      await context.insert(endpoints, endpoint);
      return [201, single(endpoint)];
    })
    .on("PATCH", "/v1/marketplaceWebhooks/{id}", async ({ body, params }) => {
      const endpoint = findEndpoint(params.id!);
      const data = readDocument(body, "marketplaceWebhooks");
      sameId(data, endpoint.id);
      const attributes = attributesOf(data);
      const endpointUrl = urlAttribute(attributes, "endpointUrl", isLoopback);
      const secret = textAttribute(attributes, "secret");
      const before = { ...endpoint };
      await context.commit(() => {
        if (endpointUrl !== undefined) endpoint.endpointUrl = endpointUrl;
        if (secret !== undefined) endpoint.secret = secret;
        return () => void Object.assign(endpoint, before);
      });
      return [200, single(endpoint)];
    })
    .on("DELETE", "/v1/marketplaceWebhooks/{id}", async ({ params }) => {
      const endpoint = findEndpoint(params.id!);
      await context.remove(endpoints, endpoint);
      return [204];
    });

  const detailResource = (detail: StoredSearchDetail) => ({
    type: "marketplaceSearchDetails",
    id: detail.id,
    attributes: { catalogUrl: detail.catalogUrl },
    links: { self: `${base()}/v1/marketplaceSearchDetails/${detail.id}` },
  });
  const findDetail = (id: string) => {
    const detail = details.find((item) => item.id === id);
    if (!detail) throw notFound("marketplaceSearchDetails", id);
    return detail;
  };
  const detailOfApp = (appId: string) => {
    if (!context.data.apps.includes(appId)) throw notFound("apps", appId);
    const detail = details.find((item) => item.appId === appId);
    if (!detail) {
      throw new ApiError(
        404,
        "NOT_FOUND",
        "The specified resource does not exist",
        `The app with id '${appId}' has no marketplace search detail.`,
      );
    }
    return detail;
  };
  /** Apple crawls the catalog on the marketplace's registered domain, over HTTPS. */
  const readCatalogUrl = (attributes: Record<string, unknown>) => {
    const catalogUrl = urlAttribute(attributes, "catalogUrl", () => false);
    if (catalogUrl === undefined) return undefined;
    const host = new URL(catalogUrl).hostname;
    const registered = (context.data.domains ?? []).map((domain) => domain.domain);
    if (!registered.some((domain) => host === domain || host.endsWith(`.${domain}`))) {
      throw invalidAttribute(
        "catalogUrl",
        `catalogUrl must be on a registered alternative distribution domain (${registered.join(", ") || "none is registered yet"}); ${host} is not.`,
      );
    }
    return catalogUrl;
  };

  router
    .on("POST", "/v1/marketplaceSearchDetails", async ({ body }) => {
      const data = readDocument(body, "marketplaceSearchDetails");
      const attributes = attributesOf(data);
      requiredAttribute(attributes, "catalogUrl");
      const appId = requireAccountApp(context.data.apps, relatedId(data, "app", "apps"));
      const catalogUrl = readCatalogUrl(attributes)!;
      const existing = details.find((item) => item.appId === appId);
      if (existing) {
        throw new ApiError(
          409,
          "ENTITY_ERROR.ALREADY_EXISTS",
          "The resource already exists.",
          `The app ${appId} has a marketplace search detail already (${existing.id}); change it with PATCH.`,
        );
      }
      const detail: StoredSearchDetail = { id: crypto.randomUUID(), appId, catalogUrl };
      await context.insert(details, detail);
      return [
        201,
        { data: detailResource(detail), links: { self: detailResource(detail).links.self } },
      ];
    })
    .on("PATCH", "/v1/marketplaceSearchDetails/{id}", async ({ body, params }) => {
      const detail = findDetail(params.id!);
      const data = readDocument(body, "marketplaceSearchDetails");
      sameId(data, detail.id);
      const catalogUrl = readCatalogUrl(attributesOf(data));
      const before = detail.catalogUrl;
      await context.commit(() => {
        if (catalogUrl !== undefined) detail.catalogUrl = catalogUrl;
        return () => void (detail.catalogUrl = before);
      });
      return [
        200,
        { data: detailResource(detail), links: { self: detailResource(detail).links.self } },
      ];
    })
    .on("DELETE", "/v1/marketplaceSearchDetails/{id}", async ({ params }) => {
      const detail = findDetail(params.id!);
      await context.remove(details, detail);
      return [204];
    })
    .on("GET", "/v1/apps/{id}/marketplaceSearchDetail", ({ url, params }) => [
      200,
      { data: detailResource(detailOfApp(params.id!)), links: { self: selfLink(url) } },
    ])
    .on("GET", "/v1/apps/{id}/relationships/marketplaceSearchDetail", ({ url, params }) => {
      const detail = detailOfApp(params.id!);
      return [
        200,
        {
          data: { type: "marketplaceSearchDetails", id: detail.id },
          links: { self: selfLink(url) },
        },
      ];
    });
};
