/**
 * The little DER (ASN.1) this package needs: a strict reader for the key structures and a
 * writer for the two wrappings it performs (SEC1 into PKCS#8, PKCS#1 into SPKI or PKCS#8).
 */

export const Tag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  sequence: 0x30,
  contextConstructed0: 0xa0,
  contextConstructed1: 0xa1,
} as const;

/** One decoded TLV. `children` is set for constructed values. */
export interface DerNode {
  readonly tag: number;
  readonly content: Uint8Array;
  readonly children?: readonly DerNode[];
}

/** Raised when bytes are not one well-formed DER value; callers map it to ERR_KEY_CORRUPT. */
export class DerSyntaxError extends Error {
  override readonly name = "DerSyntaxError";
}

const maximumDepth = 16;

/** Parses exactly one DER value that spans all of `bytes`, or throws {@link DerSyntaxError}. */
export function parseDer(bytes: Uint8Array): DerNode {
  const [node, end] = readNode(bytes, 0, 0);
  if (end !== bytes.length) {
    throw new DerSyntaxError(`${bytes.length - end} bytes follow the end of the DER value`);
  }
  return node;
}

function readNode(bytes: Uint8Array, offset: number, depth: number): [DerNode, number] {
  if (depth > maximumDepth) throw new DerSyntaxError("DER nesting is too deep");
  const tag = bytes[offset];
  if (tag === undefined) throw new DerSyntaxError("DER value is truncated before its tag");
  if ((tag & 0x1f) === 0x1f) throw new DerSyntaxError("multi-byte DER tags are not used in keys");
  let cursor = offset + 1;
  const first = bytes[cursor++];
  if (first === undefined) throw new DerSyntaxError("DER value is truncated before its length");
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new DerSyntaxError("DER length is indefinite or too large");
    if (bytes[cursor] === 0) throw new DerSyntaxError("DER length is not in its shortest form");
    length = 0;
    for (let index = 0; index < count; index++) {
      const byte = bytes[cursor++];
      if (byte === undefined) throw new DerSyntaxError("DER length is truncated");
      length = length * 256 + byte;
    }
    if (length < 0x80) throw new DerSyntaxError("DER length is not in its shortest form");
  }
  const end = cursor + length;
  if (end > bytes.length) {
    throw new DerSyntaxError("a DER length points past the end of the data");
  }
  const content = bytes.subarray(cursor, end);
  if (!(tag & 0x20)) return [{ tag, content }, end];
  const children: DerNode[] = [];
  let childOffset = cursor;
  while (childOffset < end) {
    const [child, next] = readNode(bytes.subarray(0, end), childOffset, depth + 1);
    children.push(child);
    childOffset = next;
  }
  return [{ tag, content, children }, end];
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function decodeObjectIdentifier(content: Uint8Array): string {
  if (content.length === 0) throw new DerSyntaxError("empty OBJECT IDENTIFIER");
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128)
      throw new DerSyntaxError("OBJECT IDENTIFIER arc too large");
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  if (content[content.length - 1]! & 0x80) throw new DerSyntaxError("truncated OBJECT IDENTIFIER");
  const head = arcs.shift()!;
  const top = Math.min(2, Math.floor(head / 40));
  return [top, head - top * 40, ...arcs].join(".");
}

/** Encodes one DER value from its tag and content. */
export function encodeDer(tag: number, ...contents: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const length = contents.reduce((sum, part) => sum + part.length, 0);
  const lengthBytes: number[] = [];
  if (length < 0x80) {
    lengthBytes.push(length);
  } else {
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256))
      lengthBytes.unshift(rest % 256);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  const out = new Uint8Array(1 + lengthBytes.length + length);
  out[0] = tag;
  out.set(lengthBytes, 1);
  let offset = 1 + lengthBytes.length;
  for (const part of contents) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Encodes a dotted OBJECT IDENTIFIER as a full DER value. */
export function encodeObjectIdentifier(dotted: string): Uint8Array<ArrayBuffer> {
  const [top = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [];
  for (const arc of [top * 40 + second, ...rest]) {
    const group = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      group.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...group);
  }
  return encodeDer(Tag.objectIdentifier, Uint8Array.from(bytes));
}
