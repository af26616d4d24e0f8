import { readBounded } from "@asc-kit/errors";
import { signNotification, signatureHeader } from "@asc-kit/notifications";
import type {
  SandboxData,
  StoredWebhook,
  StoredWebhookDelivery,
  StoredWebhookEvent,
} from "./state.js";

/** How the sandbox delivers notifications; every option is off or Apple-like by default. */
export interface NotificationOptions {
  /** How notifications are POSTed. Default `globalThis.fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Share (0 to 1) of notifications delivered twice, as Apple warns it may. Default 0. */
  duplicateRate?: number;
  /** Deliver what is queued together in a random order, not the order it happened. */
  shuffle?: boolean;
  /** The random source of `duplicateRate` and `shuffle`. Default `Math.random`. */
  random?: () => number;
  /** How long a receiver may take to answer, in ms. Default 5,000. */
  timeoutMs?: number;
}

/** What happened in the sandbox that a marketplace hears about. */
export type SandboxEvent =
  | {
      kind: "package-version-created";
      appId: string;
      packageId: string;
      versionId: string;
      versionNumber: string;
    }
  | { kind: "package-availability"; appId: string; packageId: string; available: boolean }
  | { kind: "territory-availability"; appId: string; territories: string[]; available: boolean }
  | { kind: "app-unavailable"; appId: string; packageIds: string[] };

/** The `/v1/webhooks` event type each sandbox event is sent as. */
const eventTypes = {
  "package-version-created": "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED",
  "package-availability": "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
  "territory-availability": "ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED",
  "app-unavailable": "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
} as const;

/** Records kept at most; the oldest go first. */
const maxRecords = 10_000;
/**
 * Deliveries waiting for one receiver, at most: past it a delivery fails at once, recorded with
 * the reason, so that a receiver that hangs holds up nothing but its own backlog.
 */
export const maxQueuedDeliveries = 64;
/** The most of a receiver's answer kept (and read). */
const maxResponseBodyBytes = 1024;

/**
 * Sends signed notifications (`x-apple-signature: hmacsha256=<hex>` over the exact body) to
 * loopback receivers only: to `/v1/webhooks` webhooks subscribed to the event's type, with a
 * delivery record each, and to the deprecated marketplace webhook in its own format. Apple
 * documents no retries; the sandbox makes none (`POST /v1/webhookDeliveries` redelivers).
 *
 * Each receiver has a queue of its own, sent in order, one at a time; receivers are sent to
 * concurrently, so a slow one delays only its own deliveries. A queue holds at most
 * `maxQueuedDeliveries`.
 */
export function createNotifier(
  data: SandboxData,
  options: NotificationOptions,
  now: () => number,
  persist: () => void,
) {
  const events = (data.webhookEvents ??= []);
  const deliveries = (data.webhookDeliveries ??= []);
  const random = options.random ?? Math.random;
  const post = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const queues = new Map<string, { sends: Array<() => Promise<void>>; draining: Promise<void> }>();
  const iso = () => new Date(now()).toISOString();

  const keep = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > maxRecords) list.splice(0, list.length - maxRecords);
  };

  /** Queues `send` for the receiver `key`; false when its queue is full. */
  function enqueue(key: string, send: () => Promise<void>): boolean {
    const queue = queues.get(key);
    if (queue) {
      if (queue.sends.length >= maxQueuedDeliveries) return false;
      queue.sends.push(send);
      return true;
    }
    const created = { sends: [send], draining: Promise.resolve() };
    created.draining = created.draining.then(() => drain(key, created.sends));
    queues.set(key, created);
    return true;
  }

  /** How many times an event is sent: twice, at `duplicateRate`, as Apple warns it may be. */
  const copies = () => (options.duplicateRate && random() < options.duplicateRate ? 2 : 1);

  async function drain(key: string, sends: Array<() => Promise<void>>): Promise<void> {
    while (sends.length > 0) {
      const batch = sends.splice(0);
      if (options.shuffle) shuffle(batch, random);
      for (const send of batch) await send();
    }
    queues.delete(key);
    persist();
  }

  /** A delivery record for `event` to `webhook`, and its sending queued. */
  function deliver(webhook: StoredWebhook, event: StoredWebhookEvent, redelivery: boolean) {
    const delivery: StoredWebhookDelivery = {
      id: crypto.randomUUID(),
      webhookId: webhook.id,
      eventId: event.id,
      url: webhook.url,
      createdDate: iso(),
      deliveryState: "PENDING",
      redelivery,
    };
    keep(deliveries, delivery);
    const queued = enqueue(`webhook:${webhook.id}`, async () => {
      const outcome = await send(webhook.url, webhook.secret, event.payload);
      delivery.sentDate = iso();
      delivery.deliveryState =
        outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300
          ? "SUCCEEDED"
          : "FAILED";
      if (outcome.status !== undefined) delivery.httpStatusCode = outcome.status;
      if (outcome.body !== undefined) delivery.responseBody = outcome.body;
      if (outcome.error !== undefined) delivery.errorMessage = outcome.error;
    });
    if (!queued) {
      delivery.sentDate = iso();
      delivery.deliveryState = "FAILED";
      delivery.errorMessage = `Not sent: ${maxQueuedDeliveries} deliveries were already waiting for this receiver, which answers slowly or not at all.`;
    }
    return delivery;
  }

  async function send(url: string, secret: string, payload: string) {
    if (!isLoopback(url)) {
      return {
        error: `The sandbox delivers to loopback addresses only (127.0.0.1, [::1], localhost), not ${new URL(url).host}.`,
      };
    }
    try {
      const response = await post(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [signatureHeader]: await signNotification(payload, secret),
        },
        body: payload,
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      return { status: response.status, body: await firstBytes(response, maxResponseBodyBytes) };
    } catch (error) {
      return { error: `The receiver did not answer: ${(error as Error).message}` };
    }
  }

  function newEvent(eventType: string | undefined, body: Record<string, unknown>) {
    const event: StoredWebhookEvent = {
      id: crypto.randomUUID(),
      ...(eventType ? { eventType } : {}),
      ping: eventType === undefined,
      payload: "",
      createdDate: iso(),
    };
    event.payload = JSON.stringify({
      data: { ...body, id: event.id, version: 1 },
    });
    keep(events, event);
    return event;
  }

  return {
    /** Notifies every webhook that asked for this kind of event, and the marketplace webhook. */
    emit(happened: SandboxEvent) {
      const eventType = eventTypes[happened.kind];
      for (const webhook of data.webhooks ?? []) {
        if (!webhook.enabled || !webhook.eventTypes.includes(eventType)) continue;
        for (const body of webhookBodies(happened, webhook.appId, iso())) {
          // A duplicate is the same event again, with a delivery record of its own.
          const event = newEvent(eventType, body);
          for (let copy = copies(); copy > 0; copy--) deliver(webhook, event, false);
        }
      }
      for (const webhook of data.marketplaceWebhooks ?? []) {
        const body = legacyBody(happened, iso());
        if (!body) continue;
        const payload = JSON.stringify({ data: { ...body, id: crypto.randomUUID(), version: 1 } });
        for (let copy = copies(); copy > 0; copy--) {
          // No record to fail: the deprecated webhook has no delivery log.
          enqueue(
            `marketplace:${webhook.endpointUrl}`,
            async () => void (await send(webhook.endpointUrl, webhook.secret, payload)),
          );
        }
      }
    },
    /** Sends a test event to one webhook (`POST /v1/webhookPings`). */
    ping(webhook: StoredWebhook): StoredWebhookDelivery {
      const event = newEvent(undefined, {
        type: "webhookPingCreated",
        attributes: { timestamp: iso() },
      });
      return deliver(webhook, event, false);
    },
    /** Sends a delivery's event again (`POST /v1/webhookDeliveries`). */
    redeliver(template: StoredWebhookDelivery): StoredWebhookDelivery | undefined {
      const webhook = (data.webhooks ?? []).find((item) => item.id === template.webhookId);
      const event = events.find((item) => item.id === template.eventId);
      return webhook && event ? deliver(webhook, event, true) : undefined;
    },
    eventOf: (delivery: StoredWebhookDelivery) =>
      events.find((event) => event.id === delivery.eventId),
    /** Resolves once everything queued has been sent (and answered or failed). */
    async settled(): Promise<void> {
      while (queues.size > 0)
        await Promise.all([...queues.values()].map((queue) => queue.draining));
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;

/**
 * The `/v1/webhooks` bodies for an event, without `id` and `version`. Apple's page lists the
 * fields (appId, timestamp; relationships `instance` and `marketplaceApp`; `available` and
 * `territories` for the updates) but shows no example: this shape is the sandbox's reading.
 */
function webhookBodies(
  happened: SandboxEvent,
  marketplaceAppId: string,
  timestamp: string,
): Record<string, unknown>[] {
  const marketplaceApp = { data: { type: "apps", id: marketplaceAppId } };
  const instance = (type: string, id: string) => ({ data: { type, id } });
  switch (happened.kind) {
    case "package-version-created":
      return [
        {
          type: "alternativeDistributionPackageVersionCreated",
          attributes: { appId: happened.appId, timestamp },
          relationships: {
            instance: instance("alternativeDistributionPackageVersions", happened.versionId),
            marketplaceApp,
          },
        },
      ];
    case "package-availability":
      return [packageAvailability(happened.appId, happened.packageId, happened.available)];
    case "app-unavailable":
      return happened.packageIds.map((id) => packageAvailability(happened.appId, id, false));
    case "territory-availability":
      return [
        {
          type: "alternativeDistributionTerritoryAvailabilityUpdated",
          attributes: {
            appId: happened.appId,
            timestamp,
            available: happened.available,
            territories: happened.territories,
          },
          relationships: { instance: instance("apps", happened.appId), marketplaceApp },
        },
      ];
  }
  function packageAvailability(appId: string, packageId: string, available: boolean) {
    return {
      type: "alternativeDistributionPackageAvailableUpdated",
      attributes: { appId, timestamp, available },
      relationships: {
        instance: instance("alternativeDistributionPackages", packageId),
        marketplaceApp,
      },
    };
  }
}

/**
 * The deprecated marketplace webhook's body (Apple's three documented types), without `id`
 * and `version`; its `marketplaceAppId` is the app the event is about, since the sandbox's
 * one account is both developer and marketplace.
 */
function legacyBody(
  happened: SandboxEvent,
  timestamp: string,
): Record<string, unknown> | undefined {
  const common = {
    marketplaceAppId: happened.appId,
    appId: happened.appId,
    eventTimestamp: timestamp,
  };
  switch (happened.kind) {
    case "package-version-created":
      return {
        type: "AlternativeDistributionPackageVersionAvailable",
        timestamp,
        attributes: {
          ...common,
          alternativeDistributionPackageId: happened.packageId,
          alternativeDistributionPackageVersionId: happened.versionId,
          alternativeDistributionPackageVersionNum: happened.versionNumber,
        },
      };
    case "package-availability":
      return happened.available
        ? undefined
        : {
            type: "AppVersionsUnavailable",
            timestamp,
            attributes: { ...common, alternativeDistributionPackageIds: [happened.packageId] },
          };
    case "app-unavailable":
      return { type: "AppUnavailable", timestamp, attributes: common };
    case "territory-availability":
      return undefined;
  }
}

/**
 * At most `limit` bytes of an answer's body, as text, reading no more than that: a receiver
 * answering hundreds of megabytes costs the sandbox a kilobyte.
 */
async function firstBytes(response: Response, limit: number): Promise<string> {
  return new TextDecoder().decode((await readBounded(response.body, limit)).bytes);
}

/** Whether a URL points at this machine: the only place the sandbox sends anything. */
export function isLoopback(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
}
