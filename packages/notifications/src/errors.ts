/**
 * Why a notification was refused. `code` is stable; the message says what was wrong and never
 * repeats the secret or the signature.
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
      | "ERR_PAYLOAD_INVALID",
    message: string,
  ) {
    super(message);
  }
}
