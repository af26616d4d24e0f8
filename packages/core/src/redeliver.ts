import type { Client } from "openapi-fetch";
import type { paths } from "./generated/app-store-connect.js";
import type { WebhookDelivery } from "./marketplace.js";
import { redeliverWebhookDelivery } from "./marketplace.js";
import { collectItems } from "./paginate.js";
import { requireId } from "./result.js";
import type { Result } from "./result.js";

/** One event sent again by {@link redeliverFailedDeliveries}. */
export interface Redelivery {
  /** The event, as its deliveries name it (the delivery's own id when none does). */
  eventId: string;
  /** The failed delivery taken as the template. */
  templateId: string;
  /** The new delivery's id, or why App Store Connect refused to make one. */
  deliveryId?: string;
  error?: string;
}

/**
 * The events of a webhook that never reached the receiver: every delivery of them `FAILED`,
 * none `SUCCEEDED` or still `PENDING`. Each is named once, with its newest failed delivery.
 */
export function undeliveredEvents(
  deliveries: readonly WebhookDelivery[],
): Map<string, WebhookDelivery> {
  const byEvent = new Map<string, WebhookDelivery[]>();
  for (const delivery of deliveries) {
    const eventId = delivery.relationships?.event?.data?.id ?? delivery.id;
    const attempts = byEvent.get(eventId);
    if (attempts) attempts.push(delivery);
    else byEvent.set(eventId, [delivery]);
  }
  const undelivered = new Map<string, WebhookDelivery>();
  for (const [eventId, attempts] of byEvent) {
    if (!attempts.every((attempt) => attempt.attributes?.deliveryState === "FAILED")) continue;
    const newest = attempts.reduce((latest, attempt) =>
      (attempt.attributes?.createdDate ?? "") > (latest.attributes?.createdDate ?? "")
        ? attempt
        : latest,
    );
    undelivered.set(eventId, newest);
  }
  return undelivered;
}

/**
 * Asks App Store Connect to send again every event of a webhook that never reached it (see
 * {@link undeliveredEvents}): what a receiver that was down, or refused while its database
 * was, does when it is back. App Store Connect does not retry on its own. A refusal of one
 * redelivery is reported in its entry and the others go on; `error` is set when the deliveries
 * could not be listed.
 *
 * @example
 * ```ts
 * import { redeliverFailedDeliveries } from "@asc-kit/core";
 *
 * const { data } = await redeliverFailedDeliveries(client, "a-webhook-id");
 * console.log(`${data?.length ?? 0} events sent again`);
 * ```
 */
export async function redeliverFailedDeliveries(
  client: Client<paths>,
  webhookId: string,
): Promise<Result<Redelivery[]>> {
  requireId(webhookId, "webhookId");
  const listed = await collectItems(client, "/v1/webhooks/{id}/deliveries", {
    params: {
      path: { id: webhookId },
      // Included, so that every delivery names its event.
      query: { limit: 200, include: ["event"], "fields[webhookEvents]": ["ping"] },
    },
  });
  if (listed.error) return listed;
  const redeliveries: Redelivery[] = [];
  for (const [eventId, template] of undeliveredEvents(listed.data)) {
    const sent = await redeliverWebhookDelivery(client, template.id);
    redeliveries.push({
      eventId,
      templateId: template.id,
      ...(sent.error ? { error: sent.error.message } : { deliveryId: sent.data.data.id }),
    });
  }
  return { data: redeliveries, response: undefined };
}
