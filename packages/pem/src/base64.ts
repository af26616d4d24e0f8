/** Bytes backed by a plain ArrayBuffer, as Web Crypto takes them. */
export type Bytes = Uint8Array<ArrayBuffer>;

const base64Alphabet = /^[A-Za-z0-9+/]*$/;

/** Encodes bytes as standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 (whitespace already removed). Padding may be missing. Returns
 * `undefined` when the text is not base64, so callers can word their own error.
 */
export function decodeBase64(text: string): Bytes | undefined {
  const unpadded = text.replace(/={1,2}$/, "");
  if (!base64Alphabet.test(unpadded) || unpadded.length % 4 === 1) return undefined;
  if (text.length !== unpadded.length && text.length % 4 !== 0) return undefined;
  const binary = atob(unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** Position (0-based) of the first character that is not in the base64 alphabet, or -1. */
export function firstNonBase64Character(text: string): number {
  const match = /[^A-Za-z0-9+/=]/.exec(text);
  return match ? match.index : -1;
}
