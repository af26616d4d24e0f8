/**
 * Why a notification was refused, or could not be handled. `code` is stable; the message says
 * what was wrong and never repeats the secret, the signature or the body.
 *
 * @example
 * ```ts
 * import { NotificationError } from "@asc-kit/notifications";
 *
 * try {
 *   await verifySignature(body, request.headers.get("x-apple-signature"), secret);
 * } catch (error) {
 *   if (error instanceof NotificationError) console.warn(error.code);
 * }
 * ```
 */
export class NotificationError extends Error {
  override readonly name = "NotificationError";
  constructor(
    readonly code:
      | "ERR_SIGNATURE_MISSING"
      | "ERR_SIGNATURE_MALFORMED"
      | "ERR_SIGNATURE_MISMATCH"
      | "ERR_BODY_TOO_LARGE"
      | "ERR_BODY_UNREADABLE"
      | "ERR_PAYLOAD_INVALID"
      | "ERR_METHOD_NOT_ALLOWED"
      | "ERR_STORE_FAILED"
      | "ERR_NOT_HANDLED",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
