import { decodeBase64, encodeBase64, firstNonBase64Character } from "./base64.js";
import type { Bytes } from "./base64.js";
import { PemError } from "./errors.js";

/** Options of {@link normalizePem}. */
export interface NormalizePemOptions {
  /**
   * The label to use when the input is a bare base64 (or binary DER) body with no
   * BEGIN/END lines, for example `"PUBLIC KEY"`. Ignored when the input has its own lines.
   */
  label?: string;
}

const beginLine = /-----BEGIN ([A-Z0-9][A-Z0-9 ]*?)-----/g;
const endLine = /-----END ([A-Z0-9][A-Z0-9 ]*?)-----/g;
const labelPattern = /^[A-Z0-9][A-Z0-9 ]*$/;
const textDecoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Returns the canonical PEM of one PEM block: `-----BEGIN <LABEL>-----`, the body in lines of
 * 64 characters, `-----END <LABEL>-----` and one trailing `\n`. Idempotent.
 *
 * Accepts the shapes keys arrive in: CRLF or CR line ends; indentation and surrounding
 * whitespace; surrounding quotes; literal `\n` and `\r\n` escapes (CI secrets, JSON); header,
 * body and footer on one line; a body wrapped at any width or not at all; the whole PEM
 * base64-encoded; and, with `options.label`, a bare base64 body or binary DER.
 *
 * @throws {PemError} `ERR_PEM_MALFORMED`, `ERR_PEM_LABEL` or `ERR_PEM_MULTIPLE`, with a message
 *   that says what was wrong and never repeats key material.
 * @throws {TypeError} when `input` is neither a string nor a Uint8Array.
 *
 * @example
 * ```ts
 * import { normalizePem } from "@asc-kit/pem";
 *
 * const pem = normalizePem(process.env.ASC_PRIVATE_KEY ?? "");
 * // "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG...\n-----END PRIVATE KEY-----\n"
 * ```
 */
export function normalizePem(
  input: string | Uint8Array,
  options: NormalizePemOptions = {},
): string {
  const { label, der } = readPemBlock(input, options);
  if (label === undefined) {
    throw malformed(
      'The input is a bare key body without BEGIN/END lines; pass options.label (for example "PUBLIC KEY") to say what it is.',
    );
  }
  return formatPem(label, der);
}

/** Formats DER bytes as canonical PEM with the given label. */
export function formatPem(label: string, der: Uint8Array): string {
  const body = encodeBase64(der).replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/**
 * Reads one PEM block from any accepted shape. A bare body (base64 or binary DER) is taken as
 * `options.label` when given, and returned with `label: undefined` otherwise, so that key
 * functions can tell its kind from the DER.
 */
export function readPemBlock(
  input: string | Uint8Array,
  options: NormalizePemOptions = {},
): { label: string | undefined; der: Bytes } {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw new TypeError(
      `Expected the key as a string or a Uint8Array, got ${input === null ? "null" : typeof input}.`,
    );
  }
  if (options.label !== undefined && !labelPattern.test(options.label)) {
    throw new TypeError(
      'options.label must be a PEM label in capitals, such as "PUBLIC KEY" or "PRIVATE KEY".',
    );
  }
  if (input instanceof Uint8Array) {
    // Binary DER starts with a SEQUENCE tag, which is no printable character.
    if (input[0] === 0x30) return { label: options.label, der: new Uint8Array(input) };
    return readPemBlock(textDecoder.decode(input), options);
  }
  const text = cleanUp(input);
  if (text === "") throw malformed("The input is empty; expected a PEM key.");

  const begins = [...text.matchAll(beginLine)];
  const ends = [...text.matchAll(endLine)];
  if (begins.length === 0 && ends.length === 0) return readWithoutLines(text, options);
  if (begins.length > 1 || ends.length > 1) {
    const count = Math.max(begins.length, ends.length);
    throw new PemError(
      "ERR_PEM_MULTIPLE",
      `Found ${count} PEM blocks where one was expected (labels: ${begins
        .map((match) => match[1])
        .join(", ")}). Pass one key at a time.`,
    );
  }
  const begin = begins[0];
  const end = ends[0];
  if (!begin) throw malformed("The PEM has an END line but no BEGIN line.");
  if (!end) throw malformed(`The PEM has a BEGIN ${begin[1]} line but no END line.`);
  const label = begin[1]!;
  if (end[1] !== label) {
    throw new PemError(
      "ERR_PEM_LABEL",
      `The PEM begins with "${label}" but ends with "${end[1]}"; both lines must carry the same label.`,
    );
  }
  const bodyStart = begin.index + begin[0].length;
  if (end.index < bodyStart) throw malformed("The PEM's END line comes before its BEGIN line.");
  if (
    text.slice(0, begin.index).trim() !== "" ||
    text.slice(end.index + end[0].length).trim() !== ""
  ) {
    throw malformed(
      `There is text before the BEGIN line or after the END line of the ${label} block; pass the PEM block alone.`,
    );
  }
  const body = text.slice(bodyStart, end.index);
  if (/^\s*[A-Za-z-]+:/m.test(body) && body.includes("ENCRYPTED")) {
    throw new PemError(
      "ERR_KEY_ENCRYPTED",
      `The ${label} is encrypted with a password (legacy PEM encryption); decrypt it first, for example with \`openssl pkey -in key.pem -out plain.pem\`.`,
    );
  }
  return { label, der: decodeBody(body, label) };
}

/** Undoes what transports do to PEM text: quotes, escapes, line ends, indentation, BOM. */
function cleanUp(input: string): string {
  let text = input.replace(/^\uFEFF/, "").trim();
  const quote = text[0];
  if ((quote === '"' || quote === "'") && text.length >= 2 && text.endsWith(quote)) {
    text = text.slice(1, -1).trim();
  }
  return text
    .replace(/\\+r\\+n|\\+n|\\+r/g, "\n")
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trim())
    .join("\n")
    .trim();
}

function readWithoutLines(
  text: string,
  options: NormalizePemOptions,
): { label: string | undefined; der: Bytes } {
  const compact = text.replace(/\s+/g, "");
  const bytes = decodeBase64(compact);
  if (bytes) {
    const decoded = textDecoder.decode(bytes);
    if (decoded.includes("-----BEGIN ")) return readPemBlock(decoded, options);
    if (bytes[0] === 0x30) return { label: options.label, der: bytes };
  }
  if (/^(?:~|\.{0,2}\/|[A-Za-z]:\\)|\.(?:p8|pem|key)$/i.test(text) && !/\s/.test(text)) {
    throw malformed(
      "The input looks like a file path, not a key. Pass the file's contents, not its name.",
    );
  }
  throw malformed(
    "No PEM found: expected a -----BEGIN ...----- line, the whole PEM encoded as base64, or a bare base64 body with options.label.",
  );
}

function decodeBody(body: string, label: string): Bytes {
  const compact = body.replace(/\s+/g, "");
  if (compact === "") throw malformed(`The ${label} block has an empty body.`);
  const bad = firstNonBase64Character(compact);
  if (bad !== -1) {
    throw malformed(
      `The body of the ${label} block has a character that is not base64 (${describeCharacter(
        compact.charCodeAt(bad),
      )} at position ${bad + 1} of ${compact.length}).`,
    );
  }
  const der = decodeBase64(compact);
  if (!der) {
    throw malformed(
      `The body of the ${label} block is not valid base64 (misplaced padding or wrong length); it may have been cut short.`,
    );
  }
  return der;
}

function describeCharacter(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code > 0x20 && code < 0x7f ? `"${String.fromCharCode(code)}", ${hex}` : hex;
}

function malformed(message: string): PemError {
  return new PemError("ERR_PEM_MALFORMED", message);
}
