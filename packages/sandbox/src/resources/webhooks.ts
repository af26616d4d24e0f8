import { ApiError, notFound, pageOf, parameterError, selfLink } from "../http.js";
import { webhookEventTypes } from "@asc-kit/core";
import { isLoopback } from "../notifier.js";
import type { StoredWebhook, StoredWebhookDelivery, StoredWebhookEvent } from "../state.js";
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

// Core's list, which the type checker holds to the spec's (one copy of it).
const eventTypes = new Set<string>(webhookEventTypes);

/**
 * `/v1/webhooks`, their deliveries, redelivery and pings. The secret is write-only: kept to
 * sign with, never in an answer. Deliveries go out through the sandbox's notifier.
 */
export const webhookRoutes: ResourceFamily = (router, context) => {
  const webhooks = (context.data.webhooks ??= []);
  const deliveries = (context.data.webhookDeliveries ??= []);
  const base = () => context.baseUrl;

  const find = (id: string) =>
    webhooks.find((webhook) => webhook.id === id) ?? fail(notFound("webhooks", id));
  const resource = (webhook: StoredWebhook) => {
    const self = `${base()}/v1/webhooks/${webhook.id}`;
    return {
      type: "webhooks",
      id: webhook.id,
      attributes: {
        enabled: webhook.enabled,
        eventTypes: webhook.eventTypes,
        name: webhook.name,
        url: webhook.url,
      },
      relationships: {
        app: { data: { type: "apps", id: webhook.appId } },
        deliveries: {
          links: { self: `${self}/relationships/deliveries`, related: `${self}/deliveries` },
        },
      },
      links: { self },
    };
  };
  const deliveryResource = (delivery: StoredWebhookDelivery) => ({
    type: "webhookDeliveries",
    id: delivery.id,
    attributes: {
      createdDate: delivery.createdDate,
      deliveryState: delivery.deliveryState,
      redelivery: delivery.redelivery,
      request: { url: delivery.url },
      ...(delivery.sentDate ? { sentDate: delivery.sentDate } : {}),
      ...(delivery.errorMessage ? { errorMessage: delivery.errorMessage } : {}),
      ...(delivery.httpStatusCode !== undefined
        ? {
            response: {
              httpStatusCode: delivery.httpStatusCode,
              ...(delivery.responseBody !== undefined ? { body: delivery.responseBody } : {}),
            },
          }
        : {}),
    },
    relationships: { event: { data: { type: "webhookEvents", id: delivery.eventId } } },
    links: { self: `${base()}/v1/webhookDeliveries/${delivery.id}` },
  });
  const eventResource = (event: StoredWebhookEvent) => ({
    type: "webhookEvents",
    id: event.id,
    attributes: {
      createdDate: event.createdDate,
      payload: event.payload,
      ping: event.ping,
      ...(event.eventType ? { eventType: event.eventType } : {}),
    },
    links: { self: `${base()}/v1/webhookEvents/${event.id}` },
  });
  context.resources.define("webhooks", (id) => {
    const webhook = webhooks.find((item) => item.id === id);
    return webhook && resource(webhook);
  });
  context.resources.define("webhookEvents", (id) => {
    const event = context.data.webhookEvents?.find((item) => item.id === id);
    return event && eventResource(event);
  });

  const readEventTypes = (value: unknown) => {
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      !value.every((type) => typeof type === "string" && eventTypes.has(type))
    ) {
      throw invalidAttribute(
        "eventTypes",
        `eventTypes must list one or more of ${[...eventTypes].join(", ")}.`,
      );
    }
    return [...new Set(value as string[])];
  };
  const readEnabled = (value: unknown) => {
    if (typeof value !== "boolean")
      throw invalidAttribute("enabled", "enabled must be true or false.");
    return value;
  };

  router
    .on("POST", "/v1/webhooks", async ({ body }) => {
      const data = readDocument(body, "webhooks");
      const attributes = attributesOf(data);
      for (const name of ["name", "secret", "eventTypes", "url", "enabled"]) {
        requiredAttribute(attributes, name);
      }
      const appId = requireAccountApp(context.data.apps, relatedId(data, "app", "apps"));
      const webhook: StoredWebhook = {
        id: crypto.randomUUID(),
        appId,
        name: textAttribute(attributes, "name", 200)!,
        secret: textAttribute(attributes, "secret", 1000)!,
        eventTypes: readEventTypes(attributes.eventTypes),
        url: urlAttribute(attributes, "url", isLoopback)!,
        enabled: readEnabled(attributes.enabled),
      };
      await context.insert(webhooks, webhook);
      return [
        201,
        { data: resource(webhook), links: { self: `${base()}/v1/webhooks/${webhook.id}` } },
      ];
    })
    .on("GET", "/v1/webhooks/{id}", ({ url, params }) => [
      200,
      { data: resource(find(params.id!)), links: { self: selfLink(url) } },
    ])
    .on("PATCH", "/v1/webhooks/{id}", async ({ body, params }) => {
      const webhook = find(params.id!);
      const data = readDocument(body, "webhooks");
      sameId(data, webhook.id);
      const attributes = attributesOf(data);
      const next: StoredWebhook = { ...webhook };
      const name = textAttribute(attributes, "name", 200);
      const secret = textAttribute(attributes, "secret", 1000);
      const target = urlAttribute(attributes, "url", isLoopback);
      if (name !== undefined) next.name = name;
      if (secret !== undefined) next.secret = secret;
      if (target !== undefined) next.url = target;
      if (attributes.eventTypes != null) next.eventTypes = readEventTypes(attributes.eventTypes);
      if (attributes.enabled != null) next.enabled = readEnabled(attributes.enabled);
      const before = { ...webhook };
      await context.commit(() => {
        Object.assign(webhook, next);
        return () => void Object.assign(webhook, before);
      });
      return [
        200,
        { data: resource(webhook), links: { self: `${base()}/v1/webhooks/${webhook.id}` } },
      ];
    })
    .on("DELETE", "/v1/webhooks/{id}", async ({ params }) => {
      const webhook = find(params.id!);
      await context.remove(webhooks, webhook);
      return [204];
    })
    .on("GET", "/v1/apps/{id}/webhooks", ({ url, params }) => {
      if (!context.data.apps.includes(params.id!)) throw notFound("apps", params.id!);
      const mine = webhooks.filter((webhook) => webhook.appId === params.id);
      return [200, pageOf(url, mine, resource)];
    })
    .on("GET", "/v1/apps/{id}/relationships/webhooks", ({ url, params }) => {
      if (!context.data.apps.includes(params.id!)) throw notFound("apps", params.id!);
      const mine = webhooks.filter((webhook) => webhook.appId === params.id);
      return [200, pageOf(url, mine, (webhook) => ({ type: "webhooks", id: webhook.id }))];
    })
    .on("GET", "/v1/webhooks/{id}/deliveries", ({ url, params }) => {
      const webhook = find(params.id!);
      const matching = deliveries
        .filter((delivery) => delivery.webhookId === webhook.id && deliveryFilter(url)(delivery))
        .reverse();
      return [200, pageOf(url, matching, deliveryResource)];
    })
    .on("GET", "/v1/webhooks/{id}/relationships/deliveries", ({ url, params }) => {
      const webhook = find(params.id!);
      const matching = deliveries.filter((delivery) => delivery.webhookId === webhook.id).reverse();
      return [
        200,
        pageOf(url, matching, (delivery) => ({ type: "webhookDeliveries", id: delivery.id })),
      ];
    })
    .on("POST", "/v1/webhookDeliveries", async ({ body }) => {
      const data = readDocument(body, "webhookDeliveries");
      const templateId = relatedId(data, "template", "webhookDeliveries");
      const template = deliveries.find((delivery) => delivery.id === templateId);
      const delivery = template && context.notifier.redeliver(template);
      if (!delivery) {
        throw new ApiError(
          422,
          "ENTITY_ERROR.RELATIONSHIP.INVALID",
          "The relationship is not valid.",
          `There is no delivery with id '${templateId.slice(0, 100)}' of a webhook that still exists.`,
          { pointer: "/data/relationships/template/data/id" },
        );
      }
      await context.commit(() => () => undefined);
      const event = context.notifier.eventOf(delivery);
      return [
        201,
        {
          data: deliveryResource(delivery),
          ...(event ? { included: [eventResource(event)] } : {}),
          links: { self: `${base()}/v1/webhookDeliveries/${delivery.id}` },
        },
      ];
    })
    .on("POST", "/v1/webhookPings", async ({ body }) => {
      const data = readDocument(body, "webhookPings");
      const webhookId = relatedId(data, "webhook", "webhooks");
      const webhook = webhooks.find((item) => item.id === webhookId);
      if (!webhook) {
        throw new ApiError(
          422,
          "ENTITY_ERROR.RELATIONSHIP.INVALID",
          "The relationship is not valid.",
          `There is no webhook with id '${webhookId.slice(0, 100)}'.`,
          { pointer: "/data/relationships/webhook/data/id" },
        );
      }
      const delivery = context.notifier.ping(webhook);
      await context.commit(() => () => undefined);
      return [
        201,
        {
          data: {
            type: "webhookPings",
            id: delivery.eventId,
            links: { self: `${base()}/v1/webhookPings/${delivery.eventId}` },
          },
          links: { self: `${base()}/v1/webhookPings/${delivery.eventId}` },
        },
      ];
    });
};

/** The deliveries a request's filters let through. */
function deliveryFilter(url: URL): (delivery: StoredWebhookDelivery) => boolean {
  // Its values are checked against the excerpt's before the handler runs.
  const states = url.searchParams.get("filter[deliveryState]")?.split(",");
  const date = (name: string) => {
    const value = url.searchParams.get(name);
    if (value === null) return undefined;
    const time = Date.parse(value);
    if (Number.isNaN(time))
      throw parameterError(name, `'${value.slice(0, 50)}' is not a date-time.`);
    return time;
  };
  const from = date("filter[createdDateGreaterThanOrEqualTo]");
  const until = date("filter[createdDateLessThan]");
  return (delivery) => {
    const created = Date.parse(delivery.createdDate);
    return (
      (!states || states.includes(delivery.deliveryState)) &&
      (from === undefined || created >= from) &&
      (until === undefined || created < until)
    );
  };
}

function fail(error: ApiError): never {
  throw error;
}
