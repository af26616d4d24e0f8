/**
 * Every code a {@link PemError} can carry. Branch on these, never on the message text.
 *
 * - `ERR_PEM_MALFORMED`: the input is not PEM, base64 of PEM, or a base64/DER body that can be read.
 * - `ERR_PEM_LABEL`: the BEGIN and END labels differ, or the label does not match the content.
 * - `ERR_PEM_MULTIPLE`: more than one key block where one was expected.
 * - `ERR_PEM_TOO_LARGE`: the input is longer than `MAX_PEM_INPUT_LENGTH`; no key is that long.
 * - `ERR_KEY_CORRUPT`: the bytes are damaged: the DER does not parse, or the key is not a valid key.
 * - `ERR_KEY_UNSUPPORTED`: a readable key (or certificate) of a kind this operation does not take.
 * - `ERR_KEY_ENCRYPTED`: a password-protected private key; decrypt it first.
 */
export type PemErrorCode =
  | "ERR_PEM_MALFORMED"
  | "ERR_PEM_LABEL"
  | "ERR_PEM_MULTIPLE"
  | "ERR_PEM_TOO_LARGE"
  | "ERR_KEY_CORRUPT"
  | "ERR_KEY_UNSUPPORTED"
  | "ERR_KEY_ENCRYPTED";

/**
 * The one error type of `@asc-kit/pem`. Its message says what was found and what is needed,
 * and never contains key material.
 *
 * @example
 * ```ts
 * import { PemError, toPublicKeyPem } from "@asc-kit/pem";
 *
 * try {
 *   await toPublicKeyPem(input);
 * } catch (error) {
 *   if (error instanceof PemError && error.code === "ERR_KEY_CORRUPT") {
 *     console.error("The key was damaged in transit:", error.message);
 *   }
 * }
 * ```
 */
export class PemError extends Error {
  /** A stable code from {@link PemErrorCode}. */
  readonly code: PemErrorCode;

  constructor(code: PemErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PemError";
    this.code = code;
  }
}
