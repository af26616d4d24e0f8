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

const labelPattern = /^[A-Z0-9][A-Z0-9 ]*$/;
/**
 * The largest input, in characters (or bytes), that the PEM readers take. A P-256 key is about
 * 250 characters, an RSA-4096 private key about 3,300, and an `openssl pkcs12 -nodes` export with
 * its Bag Attributes and certificate well under 8,000. Longer input is refused before it is
 * scanned, so that a huge "key" (from a hostile server, or a file passed by mistake) costs nothing.
 */
export const MAX_PEM_INPUT_LENGTH = 16_384;

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
 *
 * Text around the block (RFC 7468 explanatory text, `Bag Attributes` from `openssl pkcs12`) and
 * parameter blocks (`EC PARAMETERS` from `openssl ecparam -genkey`) are ignored; two key blocks
 * are refused. Every step is linear in the input, which is capped at
 * {@link MAX_PEM_INPUT_LENGTH}.
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
  if (input.length > MAX_PEM_INPUT_LENGTH) {
    throw new PemError(
      "ERR_PEM_TOO_LARGE",
      `The input is ${input.length} ${typeof input === "string" ? "characters" : "bytes"} long; a key is at most ${MAX_PEM_INPUT_LENGTH}. Pass one key, not a file or a response body.`,
    );
  }
  if (input instanceof Uint8Array) {
    // Binary DER starts with a SEQUENCE tag, which is no printable character.
    if (input[0] === 0x30) return { label: options.label, der: new Uint8Array(input) };
    return readPemBlock(textDecoder.decode(input), options);
  }
  const text = cleanUp(input);
  if (text === "") throw malformed("The input is empty; expected a PEM key.");

  const blocks = findBlocks(text);
  if (blocks.length === 0) return readWithoutLines(text, options);
  const keyBlocks = blocks.filter((block) => !parameterLabel.test(block.label));
  if (keyBlocks.length === 0) {
    throw malformed(
      `Found only ${describeLabels(blocks)} and no key block; pass the file that holds the key.`,
    );
  }
  if (keyBlocks.length > 1) {
    throw new PemError(
      "ERR_PEM_MULTIPLE",
      `Found ${keyBlocks.length} PEM blocks where one was expected (${describeLabels(keyBlocks)}). Pass one key at a time.`,
    );
  }
  const { label, body } = keyBlocks[0]!;
  const { headers, rest } = splitHeaders(body);
  if (headers.some((header) => encryptedHeader.test(header))) {
    throw new PemError(
      "ERR_KEY_ENCRYPTED",
      `The ${label} is encrypted with a password (legacy PEM encryption); decrypt it first, for example with \`openssl pkey -in key.pem -out plain.pem\`.`,
    );
  }
  return { label, der: decodeBody(rest, label) };
}

interface PemBlock {
  readonly label: string;
  readonly body: string;
}

const parameterLabel = /^[A-Z0-9 ]* PARAMETERS$/;
const encryptedHeader = /^Proc-Type:[ \t]*4[ \t]*,[ \t]*ENCRYPTED$/i;
const headerLine = /^[A-Za-z][A-Za-z0-9-]*:/;

/**
 * Every BEGIN/END pair in the text, in order. Each marker is found once with a linear scan, so
 * hostile input (150,000 BEGIN lines, say) costs one pass.
 */
function findBlocks(text: string): PemBlock[] {
  const markers = [...text.matchAll(markerPattern)];
  const blocks: PemBlock[] = [];
  for (let index = 0; index < markers.length; index += 2) {
    const begin = markers[index]!;
    const end = markers[index + 1];
    const beginLabel = begin[2]!;
    if (begin[1] === "END") throw malformed("The PEM has an END line but no BEGIN line.");
    if (!end)
      throw malformed(`The PEM has a BEGIN ${shortLabel(beginLabel)} line but no END line.`);
    if (end[1] === "BEGIN") {
      throw malformed(
        `The PEM has a BEGIN ${shortLabel(beginLabel)} line with no END line before the next BEGIN.`,
      );
    }
    if (end[2] !== beginLabel) {
      throw new PemError(
        "ERR_PEM_LABEL",
        `The PEM begins with "${shortLabel(beginLabel)}" but ends with "${shortLabel(end[2]!)}"; both lines must carry the same label.`,
      );
    }
    blocks.push({ label: beginLabel, body: text.slice(begin.index + begin[0].length, end.index) });
  }
  return blocks;
}

// The label is capped so that the lazy scan is bounded per marker; real labels are short.
const markerPattern = /-----(BEGIN|END) ([A-Z0-9][A-Z0-9 ]{0,63}?)-----/g;

/** RFC 1421 headers at the top of a body (`Proc-Type`, `DEK-Info`), and the body after them. */
function splitHeaders(body: string): { headers: string[]; rest: string } {
  const lines = body.split("\n");
  let first = 0;
  while (first < lines.length && lines[first] === "") first++;
  const headers: string[] = [];
  while (first < lines.length && headerLine.test(lines[first]!)) headers.push(lines[first++]!);
  return { headers, rest: headers.length === 0 ? body : lines.slice(first).join("\n") };
}

function describeLabels(blocks: readonly PemBlock[]): string {
  const shown = blocks.slice(0, 3).map((block) => shortLabel(block.label));
  const more = blocks.length > 3 ? ` and ${blocks.length - 3} more` : "";
  return `labels: ${shown.join(", ")}${more}`;
}

function shortLabel(label: string): string {
  return label.length > 40 ? `${label.slice(0, 40)}…` : label;
}

/**
 * Undoes what transports do to PEM text: quotes, escapes, line ends, indentation, BOM. One pass
 * over the text: a run of backslashes before `n` or `r` is one escaped line end however many
 * times it was escaped; any other backslash is kept.
 */
function cleanUp(input: string): string {
  let text = input.replace(/^\uFEFF/, "").trim();
  const quote = text[0];
  if ((quote === '"' || quote === "'") && text.length >= 2 && text.endsWith(quote)) {
    text = text.slice(1, -1).trim();
  }
  return unescapeLineEnds(text)
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trim())
    .join("\n")
    .trim();
}

function unescapeLineEnds(text: string): string {
  if (!text.includes("\\")) return text;
  let out = "";
  let index = 0;
  while (index < text.length) {
    const slash = text.indexOf("\\", index);
    if (slash === -1) {
      out += text.slice(index);
      break;
    }
    let after = slash;
    while (text[after] === "\\") after++;
    const escaped = text[after];
    if (escaped === "n" || escaped === "r") {
      out += text.slice(index, slash) + "\n";
      index = after + 1;
      // `\r\n` (each possibly escaped several times) is one line end.
      if (escaped === "r") {
        let next = index;
        while (text[next] === "\\") next++;
        if (next > index && text[next] === "n") index = next + 1;
      }
    } else {
      out += text.slice(index, after);
      index = after;
    }
  }
  return out;
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
