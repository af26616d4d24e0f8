import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/app-store-connect.js";
import { collectItems } from "./paginate.js";
import { removeConfirmed, requireId, settle } from "./result.js";
import type { Result } from "./result.js";
import { requireUrl } from "./urls.js";

export type Webhook = components["schemas"]["Webhook"];
export type WebhookResponse = components["schemas"]["WebhookResponse"];
export type WebhookEventType = components["schemas"]["WebhookEventType"];
export type WebhookDelivery = components["schemas"]["WebhookDelivery"];
export type MarketplaceSearchDetailResponse =
  components["schemas"]["MarketplaceSearchDetailResponse"];

type AnyClient = Client<paths>;

/**
 * Every event type a webhook can listen to, as the spec lists them. Written out as a record so
 * that the type checker compares it with the generated type: a regenerated spec that adds or
 * drops an event type fails the build until this list follows.
 *
 * @example
 * ```ts
 * import { webhookEventTypes } from "@asc-kit/core";
 *
 * console.log(webhookEventTypes.includes("BUILD_UPLOAD_STATE_UPDATED")); // true
 * ```
 */
export const webhookEventTypes = Object.freeze(
  Object.keys({
    ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED: true,
    ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED: true,
    ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED: true,
    APP_STORE_VERSION_APP_VERSION_STATE_UPDATED: true,
    BACKGROUND_ASSET_VERSION_APP_STORE_RELEASE_STATE_UPDATED: true,
    BACKGROUND_ASSET_VERSION_EXTERNAL_BETA_RELEASE_STATE_UPDATED: true,
    BACKGROUND_ASSET_VERSION_INTERNAL_BETA_RELEASE_CREATED: true,
    BACKGROUND_ASSET_VERSION_STATE_UPDATED: true,
    BETA_FEEDBACK_CRASH_SUBMISSION_CREATED: true,
    BETA_FEEDBACK_SCREENSHOT_SUBMISSION_CREATED: true,
    BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED: true,
    BUILD_UPLOAD_STATE_UPDATED: true,
  } satisfies Record<WebhookEventType, true>),
) as readonly WebhookEventType[];

/** The events a marketplace listens to, for new and changed alternative distribution packages. */
export const alternativeDistributionEventTypes: readonly WebhookEventType[] = [
  "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED",
  "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
  "ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED",
];

/**
 * Registers a webhook for an app (`/v1/webhooks`, which replaces the deprecated marketplace
 * webhooks). `eventTypes` defaults to the alternative distribution events. The secret is sent
 * once, is never returned by App Store Connect, and no error of this helper repeats it.
 *
 * @example
 * ```ts
 * import { createWebhook } from "@asc-kit/core";
 *
 * const { data, error } = await createWebhook(client, {
 *   appId: "6476788026",
 *   name: "Marketplace",
 *   url: "https://marketplace.example/notifications",
 *   secret: process.env.WEBHOOK_SECRET!,
 * });
 * ```
 */
export async function createWebhook(
  client: AnyClient,
  input: {
    appId: string;
    name: string;
    url: string;
    secret: string;
    eventTypes?: readonly WebhookEventType[];
    enabled?: boolean;
  },
): Promise<Result<WebhookResponse>> {
  if (typeof input !== "object" || input === null) {
    throw new TypeError("createWebhook needs { appId, name, url, secret }.");
  }
  requireId(input.appId, "appId");
  if (typeof input.name !== "string" || input.name.trim() === "") {
    throw new TypeError("name must be a non-empty name for the webhook.");
  }
  requireUrl(input.url, "webhook");
  if (typeof input.secret !== "string" || input.secret.length < 8) {
    throw new TypeError("secret must be a string of at least 8 characters (it is not shown here).");
  }
  return settle("POST", "/v1/webhooks", () =>
    client.POST("/v1/webhooks", {
      body: {
        data: {
          type: "webhooks",
          attributes: {
            name: input.name,
            url: input.url,
            secret: input.secret,
            enabled: input.enabled ?? true,
            eventTypes: [...(input.eventTypes ?? alternativeDistributionEventTypes)],
          },
          relationships: { app: { data: { type: "apps", id: input.appId } } },
        },
      },
    }),
  );
}

/**
 * Lists an app's webhooks, paging through all of them.
 *
 * @example
 * ```ts
 * import { listAppWebhooks } from "@asc-kit/core";
 *
 * const { data } = await listAppWebhooks(client, "6476788026");
 * ```
 */
export async function listAppWebhooks(
  client: AnyClient,
  appId: string,
): Promise<Result<Webhook[]>> {
  requireId(appId, "appId");
  return collectItems(client, "/v1/apps/{id}/webhooks", {
    params: { path: { id: appId }, query: { limit: 200 } },
  });
}

/**
 * Removes a webhook; after an uncertain outcome it reads the webhook back and reports the
 * removal as done if it is gone.
 *
 * @example
 * ```ts
 * import { removeWebhook } from "@asc-kit/core";
 *
 * await removeWebhook(client, "a-webhook-id");
 * ```
 */
export async function removeWebhook(client: AnyClient, id: string): Promise<Result<null>> {
  requireId(id, "id");
  return removeConfirmed(
    `/v1/webhooks/${id}`,
    () => client.DELETE("/v1/webhooks/{id}", { params: { path: { id } } }),
    () =>
      settle("GET", `/v1/webhooks/${id}`, () =>
        client.GET("/v1/webhooks/{id}", { params: { path: { id } } }),
      ),
  );
}

/**
 * Changes a webhook: its name, URL, secret (never returned, never repeated in an error), event
 * types or whether it is enabled. Only what is given is sent.
 *
 * @example
 * ```ts
 * import { updateWebhook } from "@asc-kit/core";
 *
 * await updateWebhook(client, "a-webhook-id", { enabled: false });
 * ```
 */
export async function updateWebhook(
  client: AnyClient,
  id: string,
  changes: {
    name?: string;
    url?: string;
    secret?: string;
    eventTypes?: readonly WebhookEventType[];
    enabled?: boolean;
  },
): Promise<Result<WebhookResponse>> {
  requireId(id, "id");
  if (typeof changes !== "object" || changes === null || Object.keys(changes).length === 0) {
    throw new TypeError(
      "updateWebhook needs at least one of name, url, secret, eventTypes, enabled.",
    );
  }
  if (changes.url !== undefined) requireUrl(changes.url, "webhook");
  if (
    changes.secret !== undefined &&
    (typeof changes.secret !== "string" || changes.secret.length < 8)
  ) {
    throw new TypeError("secret must be a string of at least 8 characters (it is not shown here).");
  }
  const { eventTypes, ...rest } = changes;
  return settle("PATCH", `/v1/webhooks/${id}`, () =>
    client.PATCH("/v1/webhooks/{id}", {
      params: { path: { id } },
      body: {
        data: {
          type: "webhooks",
          id,
          attributes: { ...rest, ...(eventTypes ? { eventTypes: [...eventTypes] } : {}) },
        },
      },
    }),
  );
}

/**
 * Asks App Store Connect to send a delivery again (after the endpoint was down, say).
 *
 * @example
 * ```ts
 * import { redeliverWebhookDelivery } from "@asc-kit/core";
 *
 * await redeliverWebhookDelivery(client, "a-delivery-id");
 * ```
 */
export async function redeliverWebhookDelivery(
  client: AnyClient,
  deliveryId: string,
): Promise<Result<components["schemas"]["WebhookDeliveryResponse"]>> {
  requireId(deliveryId, "deliveryId");
  return settle("POST", "/v1/webhookDeliveries", () =>
    client.POST("/v1/webhookDeliveries", {
      body: {
        data: {
          type: "webhookDeliveries",
          relationships: { template: { data: { type: "webhookDeliveries", id: deliveryId } } },
        },
      },
    }),
  );
}

/**
 * Lists a webhook's deliveries (`deliveryState`, the endpoint's answer), paging through all.
 *
 * @example
 * ```ts
 * import { listWebhookDeliveries } from "@asc-kit/core";
 *
 * const { data } = await listWebhookDeliveries(client, "a-webhook-id");
 * ```
 */
export async function listWebhookDeliveries(
  client: AnyClient,
  webhookId: string,
): Promise<Result<WebhookDelivery[]>> {
  requireId(webhookId, "webhookId");
  return collectItems(client, "/v1/webhooks/{id}/deliveries", {
    params: { path: { id: webhookId }, query: { limit: 200 } },
  });
}

/**
 * Asks App Store Connect to send the webhook a test notification (a ping).
 *
 * @example
 * ```ts
 * import { pingWebhook } from "@asc-kit/core";
 *
 * await pingWebhook(client, "a-webhook-id");
 * ```
 */
export async function pingWebhook(
  client: AnyClient,
  webhookId: string,
): Promise<Result<components["schemas"]["WebhookPingResponse"]>> {
  requireId(webhookId, "webhookId");
  return settle("POST", "/v1/webhookPings", () =>
    client.POST("/v1/webhookPings", {
      body: {
        data: {
          type: "webhookPings",
          relationships: { webhook: { data: { type: "webhooks", id: webhookId } } },
        },
      },
    }),
  );
}

/**
 * Registers the catalog (the root sitemap Applebot crawls) of a marketplace app, for
 * Spotlight. The URL must be HTTPS on the registered distribution domain.
 *
 * @example
 * ```ts
 * import { createMarketplaceSearchDetail } from "@asc-kit/core";
 *
 * await createMarketplaceSearchDetail(client, { appId: "6476788026", catalogUrl: "https://marketplace.example/sitemap.xml" });
 * ```
 */
export async function createMarketplaceSearchDetail(
  client: AnyClient,
  input: { appId: string; catalogUrl: string },
): Promise<Result<MarketplaceSearchDetailResponse>> {
  if (typeof input !== "object" || input === null) {
    throw new TypeError("createMarketplaceSearchDetail needs { appId, catalogUrl }.");
  }
  requireId(input.appId, "appId");
  requireUrl(input.catalogUrl, "catalog");
  return settle("POST", "/v1/marketplaceSearchDetails", () =>
    client.POST("/v1/marketplaceSearchDetails", {
      body: {
        data: {
          type: "marketplaceSearchDetails",
          attributes: { catalogUrl: input.catalogUrl },
          relationships: { app: { data: { type: "apps", id: input.appId } } },
        },
      },
    }),
  );
}

/**
 * Reads a marketplace app's search detail (its `catalogUrl`): 404 when it has none.
 *
 * @example
 * ```ts
 * import { getAppMarketplaceSearchDetail } from "@asc-kit/core";
 *
 * const { data } = await getAppMarketplaceSearchDetail(client, "6476788026");
 * ```
 */
export async function getAppMarketplaceSearchDetail(
  client: AnyClient,
  appId: string,
): Promise<Result<MarketplaceSearchDetailResponse>> {
  requireId(appId, "appId");
  return settle("GET", `/v1/apps/${appId}/marketplaceSearchDetail`, () =>
    client.GET("/v1/apps/{id}/marketplaceSearchDetail", { params: { path: { id: appId } } }),
  );
}

/**
 * Changes a marketplace app's catalog URL, or clears it with `null`.
 *
 * @example
 * ```ts
 * import { updateMarketplaceSearchDetail } from "@asc-kit/core";
 *
 * await updateMarketplaceSearchDetail(client, "a-search-detail-id", "https://marketplace.example/sitemap.xml");
 * ```
 */
export async function updateMarketplaceSearchDetail(
  client: AnyClient,
  id: string,
  catalogUrl: string | null,
): Promise<Result<MarketplaceSearchDetailResponse>> {
  requireId(id, "id");
  if (catalogUrl !== null) requireUrl(catalogUrl, "catalog");
  return settle("PATCH", `/v1/marketplaceSearchDetails/${id}`, () =>
    client.PATCH("/v1/marketplaceSearchDetails/{id}", {
      params: { path: { id } },
      body: { data: { type: "marketplaceSearchDetails", id, attributes: { catalogUrl } } },
    }),
  );
}

/**
 * Removes a marketplace app's search detail.
 *
 * @example
 * ```ts
 * import { removeMarketplaceSearchDetail } from "@asc-kit/core";
 *
 * await removeMarketplaceSearchDetail(client, "a-search-detail-id");
 * ```
 */
export async function removeMarketplaceSearchDetail(
  client: AnyClient,
  id: string,
): Promise<Result<null>> {
  requireId(id, "id");
  return settle("DELETE", `/v1/marketplaceSearchDetails/${id}`, async () => {
    const { error, response } = await client.DELETE("/v1/marketplaceSearchDetails/{id}", {
      params: { path: { id } },
    });
    return error === undefined ? { data: null, response } : { error, response };
  });
}
