import { NotificationError } from "./errors.js";

/** The header App Store Connect signs notifications with. */
export const signatureHeader = "x-apple-signature";

const headerPattern = /^hmacsha256=([0-9a-fA-F]{64})$/;
const encoder = new TextEncoder();

/**
 * Verifies `x-apple-signature: hmacsha256=<hex>`: the HMAC-SHA256 of the exact raw body, keyed
 * with the secret registered for the webhook. Web Crypto's `verify` compares in constant time.
 * Throws a {@link NotificationError}: `ERR_SIGNATURE_MISSING`, `ERR_SIGNATURE_MALFORMED` or
 * `ERR_SIGNATURE_MISMATCH`. Pass the body as it arrived: a re-serialized JSON never matches.
 *
 * @example
 * ```ts
 * import { verifySignature } from "@asc-kit/notifications";
 *
 * const body = new Uint8Array(await request.arrayBuffer());
 * await verifySignature(body, request.headers.get("x-apple-signature"), process.env.WEBHOOK_SECRET!);
 * ```
 */
export async function verifySignature(
  body: Uint8Array | string,
  header: string | null | undefined,
  secret: string,
): Promise<void> {
  if (typeof secret !== "string" || secret === "") {
    throw new TypeError("secret must be the webhook's secret, a non-empty string.");
  }
  if (header === null || header === undefined || header === "") {
    throw new NotificationError(
      "ERR_SIGNATURE_MISSING",
      `The request has no ${signatureHeader} header: it did not come from App Store Connect.`,
    );
  }
  const hex = headerPattern.exec(header.trim())?.[1];
  if (!hex) {
    throw new NotificationError(
      "ERR_SIGNATURE_MALFORMED",
      `The ${signatureHeader} header is not "hmacsha256=" and 64 hexadecimal digits.`,
    );
  }
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const valid = await crypto.subtle.verify(
    "HMAC",
    key,
    hexBytes(hex) as Uint8Array<ArrayBuffer>,
    bytes as Uint8Array<ArrayBuffer>,
  );
  if (!valid) {
    throw new NotificationError(
      "ERR_SIGNATURE_MISMATCH",
      "The signature does not match the body with this secret: the body was changed, or the secret is not the webhook's.",
    );
  }
}

/**
 * The header value for a body, as App Store Connect computes it: for tests and for a sandbox
 * that sends notifications.
 *
 * @example
 * ```ts
 * import { signNotification } from "@asc-kit/notifications";
 *
 * const header = await signNotification('{"data":{}}', "my secret"); // "hmacsha256=…"
 * ```
 */
export async function signNotification(body: Uint8Array | string, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, bytes as Uint8Array<ArrayBuffer>),
  );
  return `hmacsha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, index) =>
    Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16),
  );
}
