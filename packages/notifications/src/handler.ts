import { readBounded } from "@asc-kit/errors";
import { memoryDeliveryStore } from "./dedupe.js";
import type { DeliveryStore } from "./dedupe.js";
import { NotificationError } from "./errors.js";
import { parseNotification } from "./payload.js";
import type { MarketplaceNotification } from "./payload.js";
import { signatureHeader, verifySignature } from "./signature.js";

export interface NotificationHandlerOptions {
  /** The secret registered with the webhook. Never logged, never echoed. */
  secret: string;
  /** Called once per notification, duplicates left out. A rejection answers 500, so Apple retries. */
  onNotification: (notification: MarketplaceNotification) => unknown;
  /** Where delivered ids are remembered. Default: in memory, the last 10,000. */
  store?: DeliveryStore;
  /** The largest body read. Default 64 KiB; notifications are a few hundred bytes. */
  maxBodyBytes?: number;
  /**
   * Told of every request answered with anything but 200, and why: for the receiver's own log,
   * since the answer says nothing. The error's message never holds the secret, the signature or
   * the body; for a 500, its `cause` is what failed (your `onNotification`'s error, the store's).
   */
  onRefused?: (error: NotificationError, status: number) => void;
}

/**
 * A `(request: Request) => Promise<Response>` handler for App Store Connect's notifications:
 * it reads the raw body (bounded), verifies the signature, parses the payload, discards a
 * duplicate, calls `onNotification`, and answers. 401 for a bad signature, 400 for a bad
 * payload, 413 for a body too large, 405 for anything but POST, 500 when the notification could
 * not be handled (so that Apple delivers it again); 200 otherwise. It always answers, never
 * rejects. Answers never say more than the status: a caller without the secret learns nothing.
 *
 * A duplicate that arrives while this handler is still handling the original waits for it and
 * answers as it does: 200 once it is handled, 500 if it failed.
 *
 * @example
 * ```ts
 * import { createNotificationHandler } from "@asc-kit/notifications";
 *
 * export default {
 *   fetch: createNotificationHandler({
 *     secret: "the webhook's secret",
 *     onNotification: (notification) => console.log(notification.type, notification.id),
 *     onRefused: (error, status) => console.warn(status, error.code, error.message),
 *   }),
 * };
 * ```
 */
export function createNotificationHandler(
  options: NotificationHandlerOptions,
): (request: Request) => Promise<Response> {
  if (typeof options?.secret !== "string" || options.secret === "") {
    throw new TypeError("createNotificationHandler needs the webhook's secret.");
  }
  if (typeof options.onNotification !== "function") {
    throw new TypeError("createNotificationHandler needs an onNotification function.");
  }
  const store = options.store ?? memoryDeliveryStore();
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const handleOnce = onceAtATime(store, options.onNotification);
  const refuse = (status: number, error: NotificationError, headers?: Record<string, string>) => {
    try {
      options.onRefused?.(error, status);
    } catch {
      // A failing logger must not change the answer.
    }
    return answer(status, headers);
  };
  return async (request) => {
    if (request.method !== "POST") {
      const error = new NotificationError(
        "ERR_METHOD_NOT_ALLOWED",
        "Only POST is accepted: App Store Connect POSTs notifications.",
      );
      return refuse(405, error, { allow: "POST" });
    }
    const body = await readBody(request, maxBodyBytes);
    if (body instanceof NotificationError) {
      return refuse(body.code === "ERR_BODY_TOO_LARGE" ? 413 : 500, body);
    }
    let notification: MarketplaceNotification;
    try {
      await verifySignature(body, request.headers.get(signatureHeader), options.secret);
      notification = parseNotification(new TextDecoder().decode(body));
    } catch (error) {
      if (!(error instanceof NotificationError)) {
        const failed = new NotificationError(
          "ERR_NOT_HANDLED",
          "The notification could not be checked.",
          { cause: error },
        );
        return refuse(500, failed);
      }
      return refuse(error.code === "ERR_PAYLOAD_INVALID" ? 400 : 401, error);
    }
    const failure = await handleOnce(notification);
    return failure ? refuse(500, failure) : answer(200);
  };
}

/**
 * Hands each notification to `onNotification` once, remembering its id in `store`; resolves
 * with why it could not be handled, if it could not. A duplicate of one under way here waits for
 * it and ends as it ends, so that a duplicate is never acknowledged for an original that fails.
 */
function onceAtATime(
  store: DeliveryStore,
  onNotification: NotificationHandlerOptions["onNotification"],
): (notification: MarketplaceNotification) => Promise<NotificationError | undefined> {
  const underWay = new Map<string, Promise<NotificationError | undefined>>();
  async function handle(id: string, notification: MarketplaceNotification) {
    let added: boolean;
    try {
      added = await store.add(id);
    } catch (cause) {
      return storeFailed("could not record the notification", cause);
    }
    if (!added) return undefined;
    try {
      await onNotification(notification);
      return undefined;
    } catch (cause) {
      // Not handled: forget it, so that App Store Connect's next delivery is handled again.
      try {
        await store.remove(id);
      } catch (removeCause) {
        return storeFailed("could not forget a notification that failed", removeCause);
      }
      return new NotificationError(
        "ERR_NOT_HANDLED",
        "onNotification failed: answered 500, so that App Store Connect delivers it again.",
        { cause },
      );
    }
  }
  return async (notification) => {
    const original = underWay.get(notification.id);
    if (original) return original;
    const handling = handle(notification.id, notification);
    underWay.set(notification.id, handling);
    try {
      return await handling;
    } finally {
      underWay.delete(notification.id);
    }
  };
}

function storeFailed(what: string, cause: unknown): NotificationError {
  return new NotificationError(
    "ERR_STORE_FAILED",
    `The delivery store ${what}: answered 500, so that App Store Connect delivers it again.`,
    { cause },
  );
}

function answer(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/** The body's bytes; a refusal once they pass `limit`, or when the stream fails. */
async function readBody(request: Request, limit: number): Promise<Uint8Array | NotificationError> {
  const tooLarge = () =>
    new NotificationError("ERR_BODY_TOO_LARGE", `The body is larger than ${limit} bytes.`);
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) return tooLarge();
  try {
    const { bytes, complete } = await readBounded(request.body, limit);
    return complete ? bytes : tooLarge();
  } catch (cause) {
    return new NotificationError(
      "ERR_BODY_UNREADABLE",
      "The body could not be read to its end: answered 500, so that App Store Connect delivers it again.",
      { cause },
    );
  }
}
