import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/app-store-connect.js";
import { removeConfirmed, requireId, settle } from "./result.js";
import type { Result } from "./result.js";
import { requireUrl } from "./urls.js";

export type MarketplaceWebhook = components["schemas"]["MarketplaceWebhook"];

type AnyClient = Client<paths>;

/**
 * Reads the account's marketplace webhook (there is one per account), or `undefined` when
 * none is configured.
 *
 * @deprecated Apple deprecated `/v1/marketplaceWebhooks` in 4.2: register a webhook for the
 * `ALTERNATIVE_DISTRIBUTION_*` events with `createWebhook` instead.
 *
 * @example
 * ```ts
 * import { getMarketplaceWebhook } from "@asc-kit/core";
 *
 * const { data } = await getMarketplaceWebhook(client);
 * console.log(data?.attributes?.endpointUrl ?? "none");
 * ```
 */
export async function getMarketplaceWebhook(
  client: AnyClient,
): Promise<Result<MarketplaceWebhook | undefined>> {
  const result = await settle("GET", "/v1/marketplaceWebhooks", () =>
    client.GET("/v1/marketplaceWebhooks", { params: { query: { limit: 1 } } }),
  );
  return result.error ? result : { data: result.data.data[0], response: result.response };
}

/**
 * Configures the account's marketplace webhook: where App Store Connect sends the three
 * marketplace notifications, signed with `secret` (never returned, never repeated in an error).
 * A second one is a 409 (`conflict`): change the first with `updateMarketplaceWebhook`.
 *
 * @deprecated Apple deprecated `/v1/marketplaceWebhooks` in 4.2: use `createWebhook`.
 *
 * @example
 * ```ts
 * import { createMarketplaceWebhook } from "@asc-kit/core";
 *
 * await createMarketplaceWebhook(client, {
 *   endpointUrl: "https://marketplace.example/notifications",
 *   secret: process.env.WEBHOOK_SECRET!,
 * });
 * ```
 */
export async function createMarketplaceWebhook(
  client: AnyClient,
  input: { endpointUrl: string; secret: string },
): Promise<Result<MarketplaceWebhook>> {
  if (typeof input !== "object" || input === null) {
    throw new TypeError("createMarketplaceWebhook needs { endpointUrl, secret }.");
  }
  requireUrl(input.endpointUrl, "webhook");
  requireSecret(input.secret);
  const result = await settle("POST", "/v1/marketplaceWebhooks", () =>
    client.POST("/v1/marketplaceWebhooks", {
      body: {
        data: {
          type: "marketplaceWebhooks",
          attributes: { endpointUrl: input.endpointUrl, secret: input.secret },
        },
      },
    }),
  );
  return result.error ? result : { data: single(result.data.data), response: result.response };
}

/**
 * Changes the marketplace webhook's endpoint URL or secret; only what is given is sent.
 *
 * @deprecated Apple deprecated `/v1/marketplaceWebhooks` in 4.2: use `updateWebhook`.
 *
 * @example
 * ```ts
 * import { updateMarketplaceWebhook } from "@asc-kit/core";
 *
 * await updateMarketplaceWebhook(client, "a-marketplace-webhook-id", {
 *   endpointUrl: "https://marketplace.example/v2/notifications",
 * });
 * ```
 */
export async function updateMarketplaceWebhook(
  client: AnyClient,
  id: string,
  changes: { endpointUrl?: string; secret?: string },
): Promise<Result<MarketplaceWebhook>> {
  requireId(id, "id");
  if (typeof changes !== "object" || changes === null || Object.keys(changes).length === 0) {
    throw new TypeError("updateMarketplaceWebhook needs endpointUrl, secret, or both.");
  }
  if (changes.endpointUrl !== undefined) requireUrl(changes.endpointUrl, "webhook");
  if (changes.secret !== undefined) requireSecret(changes.secret);
  const result = await settle("PATCH", `/v1/marketplaceWebhooks/${id}`, () =>
    client.PATCH("/v1/marketplaceWebhooks/{id}", {
      params: { path: { id } },
      body: { data: { type: "marketplaceWebhooks", id, attributes: { ...changes } } },
    }),
  );
  return result.error ? result : { data: single(result.data.data), response: result.response };
}

/**
 * Removes the marketplace webhook; after an uncertain outcome it reads the account's webhook
 * back and reports the removal as done if it is gone.
 *
 * @deprecated Apple deprecated `/v1/marketplaceWebhooks` in 4.2: use `removeWebhook`.
 *
 * @example
 * ```ts
 * import { removeMarketplaceWebhook } from "@asc-kit/core";
 *
 * await removeMarketplaceWebhook(client, "a-marketplace-webhook-id");
 * ```
 */
export async function removeMarketplaceWebhook(
  client: AnyClient,
  id: string,
): Promise<Result<null>> {
  requireId(id, "id");
  return removeConfirmed(
    `/v1/marketplaceWebhooks/${id}`,
    () => client.DELETE("/v1/marketplaceWebhooks/{id}", { params: { path: { id } } }),
    () => getMarketplaceWebhook(client),
    // There is no GET by id: it is gone when the account's webhook is another one, or none.
    (after) => !after.error && after.data?.id !== id,
  );
}

/**
 * The webhook of a create or update answer. Apple's schema says `data` is one resource; its
 * pages' examples show a list of one. Either is read.
 */
function single(data: MarketplaceWebhook | MarketplaceWebhook[]): MarketplaceWebhook {
  return Array.isArray(data) ? data[0]! : data;
}

function requireSecret(secret: unknown): void {
  if (typeof secret !== "string" || secret.length < 8) {
    throw new TypeError("secret must be a string of at least 8 characters (it is not shown here).");
  }
}
