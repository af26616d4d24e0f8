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
}

/**
 * A `(request: Request) => Promise<Response>` handler for App Store Connect's notifications:
 * it reads the raw body (bounded), verifies the signature, parses the payload, discards a
 * duplicate, calls `onNotification`, and answers. 401 for a bad signature, 400 for a bad
 * payload, 413 for a body too large, 405 for anything but POST; 200 otherwise. Answers never
 * say more than the status: a caller without the secret learns nothing.
 *
 * @example
 * ```ts
 * import { createNotificationHandler } from "@asc-kit/notifications";
 *
 * export default {
 *   fetch: createNotificationHandler({
 *     secret: "the webhook's secret",
 *     onNotification: (notification) => console.log(notification.type, notification.id),
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
  return async (request) => {
    if (request.method !== "POST") return answer(405, { allow: "POST" });
    const body = await readBounded(request, maxBodyBytes);
    if (!body) return answer(413);
    let notification: MarketplaceNotification;
    try {
      await verifySignature(body, request.headers.get(signatureHeader), options.secret);
      notification = parseNotification(new TextDecoder().decode(body));
    } catch (error) {
      if (!(error instanceof NotificationError)) throw error;
      return answer(error.code === "ERR_PAYLOAD_INVALID" ? 400 : 401);
    }
    if (!(await store.add(notification.id))) return answer(200);
    try {
      await options.onNotification(notification);
    } catch {
      // Not handled: forget it, so that App Store Connect's next delivery is handled again.
      await store.remove(notification.id);
      return answer(500);
    }
    return answer(200);
  };
}

function answer(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

/** The body's bytes, or undefined once they pass `limit`. */
async function readBounded(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) return undefined;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
