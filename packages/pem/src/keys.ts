import {
  DerSyntaxError,
  Tag,
  decodeObjectIdentifier,
  encodeDer,
  encodeObjectIdentifier,
  parseDer,
} from "./der.js";
import type { DerNode } from "./der.js";
import type { Bytes } from "./base64.js";
import { PemError } from "./errors.js";
import { formatPem, readPemBlock } from "./pem.js";

/** Anything {@link normalizePem} accepts, and binary or base64 DER whose kind the DER tells. */
export type KeyInput = string | Uint8Array;

/** What {@link inspectKey} finds out about a key. */
export interface KeyInfo {
  kind: "public" | "private";
  /** `pkcs1` is the RSA-only `BEGIN RSA ... KEY` form. */
  format: "spki" | "pkcs8" | "sec1" | "pkcs1";
  type: "EC" | "RSA" | "Ed25519" | "unknown";
  curve?: "P-256" | "P-384" | "P-521";
  /** SHA-256 over the SPKI DER of the (derived) public key, 64 lowercase hex characters. */
  fingerprint: string;
}

const oid = {
  ecPublicKey: "1.2.840.10045.2.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  ed25519: "1.3.101.112",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  p521: "1.3.132.0.35",
} as const;

const curveByOid: Record<string, KeyInfo["curve"]> = {
  [oid.p256]: "P-256",
  [oid.p384]: "P-384",
  [oid.p521]: "P-521",
};
const labelByFormat = {
  spki: "PUBLIC KEY",
  pkcs8: "PRIVATE KEY",
  sec1: "EC PRIVATE KEY",
} as const;

/** A key read from its DER, before any Web Crypto work. */
interface ParsedKey {
  kind: KeyInfo["kind"];
  format: KeyInfo["format"];
  type: KeyInfo["type"];
  curve?: KeyInfo["curve"];
  /** The DER as SPKI (public) or PKCS#8 (private), whatever it came as. */
  standardDer: Bytes;
}

/**
 * Reads a public or private key in any shape and tells what it is: public or private, its
 * format, its algorithm, its curve, and its fingerprint.
 *
 * @throws {PemError} `ERR_KEY_CORRUPT` when the DER does not parse or the key material is invalid
 *   (checked by importing it with Web Crypto), never a wrong label or curve for damaged bytes;
 *   `ERR_KEY_UNSUPPORTED` for certificates and for private keys of unknown algorithms;
 *   `ERR_KEY_ENCRYPTED` for password-protected keys; the PEM codes of {@link normalizePem}.
 *
 * @example
 * ```ts
 * import { inspectKey } from "@asc-kit/pem";
 *
 * const info = await inspectKey(await readFile("private_key.pem", "utf8"));
 * // { kind: "private", format: "sec1", type: "EC", curve: "P-256", fingerprint: "9f2c…" }
 * ```
 */
export async function inspectKey(input: KeyInput): Promise<KeyInfo> {
  const parsed = parseKey(input);
  const publicDer = await publicSpkiOf(parsed);
  return {
    kind: parsed.kind,
    format: parsed.format,
    type: parsed.type,
    ...(parsed.curve ? { curve: parsed.curve } : {}),
    fingerprint: await sha256Hex(publicDer),
  };
}

/**
 * Returns the value to upload as an alternative distribution key: the canonical SPKI PEM
 * (`BEGIN PUBLIC KEY`) of an EC P-256 key. Given a P-256 private key (PKCS#8 or SEC1), it
 * derives the public key, so private material is never what gets sent.
 *
 * @throws {PemError} `ERR_KEY_UNSUPPORTED` for RSA, Ed25519, other curves and certificates;
 *   `ERR_KEY_CORRUPT` for damaged keys; the PEM codes of {@link normalizePem}.
 *
 * @example
 * ```ts
 * import { toPublicKeyPem } from "@asc-kit/pem";
 *
 * const publicKey = await toPublicKeyPem("-----BEGIN PUBLIC KEY-----MFkwEw...-----END PUBLIC KEY-----");
 * // "-----BEGIN PUBLIC KEY-----\nMFkwEw...\n-----END PUBLIC KEY-----\n"
 * ```
 */
export async function toPublicKeyPem(input: KeyInput): Promise<string> {
  const parsed = requireP256(parseKey(input), "an alternative distribution key");
  return formatPem("PUBLIC KEY", await publicSpkiOf(parsed));
}

/**
 * Returns a P-256 private key (SEC1 or PKCS#8, any shape) as canonical PKCS#8 PEM, the form of
 * Apple's `.p8` files and of `jose.importPKCS8`.
 *
 * @throws {PemError} `ERR_KEY_UNSUPPORTED` for public keys and other algorithms or curves;
 *   `ERR_KEY_CORRUPT` for DER that does not parse; the PEM codes of {@link normalizePem}.
 *
 * @example
 * ```ts
 * import { toPkcs8Pem } from "@asc-kit/pem";
 * import { importPKCS8 } from "jose";
 *
 * // `openssl ecparam -genkey` writes SEC1 ("BEGIN EC PRIVATE KEY"); jose wants PKCS#8.
 * const key = await importPKCS8(toPkcs8Pem(sec1Pem), "ES256");
 * ```
 */
export function toPkcs8Pem(input: KeyInput): string {
  return formatPem("PRIVATE KEY", toPkcs8Der(input));
}

/**
 * Returns a P-256 private key (SEC1 or PKCS#8, any shape) as PKCS#8 DER, ready for
 * `crypto.subtle.importKey("pkcs8", …)`.
 *
 * @throws {PemError} as {@link toPkcs8Pem}.
 *
 * @example
 * ```ts
 * import { toPkcs8Der } from "@asc-kit/pem";
 *
 * const key = await crypto.subtle.importKey("pkcs8", toPkcs8Der(pem), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
 * ```
 */
export function toPkcs8Der(input: KeyInput): Uint8Array<ArrayBuffer> {
  const parsed = requireP256(parseKey(input), "an ES256 signing key");
  if (parsed.kind !== "private") {
    throw new PemError(
      "ERR_KEY_UNSUPPORTED",
      "Found a public key where a private key is needed; give the private key (`private-key.pem` from `asc-kit keys generate`, or the .p8).",
    );
  }
  return parsed.standardDer;
}

/**
 * SHA-256, in 64 lowercase hex characters, over the SPKI DER of the key's public key (derived
 * first from a private key), so that a local key can be matched to an uploaded one.
 *
 * @example
 * ```ts
 * import { fingerprint } from "@asc-kit/pem";
 *
 * if ((await fingerprint(localPrivateKey)) === (await fingerprint(uploaded.attributes.publicKey))) {
 *   console.log("This is the uploaded key's pair.");
 * }
 * ```
 */
export async function fingerprint(input: KeyInput): Promise<string> {
  return (await inspectKey(input)).fingerprint;
}

/**
 * Makes a fresh EC P-256 key pair with Web Crypto: the private key as PKCS#8 PEM (to sign
 * with) and the public key as SPKI PEM (to upload).
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@asc-kit/pem";
 *
 * const { privateKeyPem, publicKeyPem } = await generateKeyPair();
 * ```
 */
export async function generateKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const [privateDer, publicDer] = await Promise.all([
    crypto.subtle.exportKey("pkcs8", pair.privateKey),
    crypto.subtle.exportKey("spki", pair.publicKey),
  ]);
  return {
    privateKeyPem: formatPem("PRIVATE KEY", new Uint8Array(privateDer)),
    publicKeyPem: formatPem("PUBLIC KEY", new Uint8Array(publicDer)),
  };
}

function requireP256(parsed: ParsedKey, purpose: string): ParsedKey {
  if (parsed.type === "EC" && parsed.curve === "P-256") return parsed;
  const found =
    parsed.type === "EC"
      ? `an EC key on ${parsed.curve ?? "an unnamed or unknown curve"}`
      : parsed.type === "unknown"
        ? "a key of an unknown algorithm"
        : `an ${parsed.type} key`;
  throw new PemError(
    "ERR_KEY_UNSUPPORTED",
    `Found ${found} (${parsed.kind}); ${purpose} must be an EC key on P-256 (prime256v1), as made by \`openssl ecparam -name prime256v1 -genkey\`.`,
  );
}

/** Reads the DER and classifies it, wrapping SEC1 and PKCS#1 into their standard forms. */
function parseKey(input: KeyInput): ParsedKey {
  const { label, der } = readPemBlock(input);
  if (label === "CERTIFICATE" || label === "X509 CERTIFICATE" || label === "TRUSTED CERTIFICATE") {
    throw new PemError(
      "ERR_KEY_UNSUPPORTED",
      "Found a certificate, not a key; take its public key with `openssl x509 -in cert.pem -pubkey -noout`.",
    );
  }
  if (label === "ENCRYPTED PRIVATE KEY") {
    throw new PemError(
      "ERR_KEY_ENCRYPTED",
      "Found a password-protected private key; decrypt it first, for example with `openssl pkcs8 -in key.pem -out plain.pem`.",
    );
  }
  let root: DerNode;
  try {
    root = parseDer(der);
  } catch (error) {
    throw corrupt(label, error);
  }
  const parsed = classify(root, der, label);
  if (!parsed) {
    throw new PemError(
      "ERR_KEY_CORRUPT",
      `${label ? `The ${label} block` : "The input"} parses as DER but is not a public or private key structure; it may be damaged or not a key.`,
    );
  }
  const expectedLabel =
    parsed.format === "pkcs1"
      ? `RSA ${parsed.kind.toUpperCase()} KEY`
      : labelByFormat[parsed.format];
  if (label !== undefined && label !== expectedLabel) {
    throw new PemError(
      "ERR_PEM_LABEL",
      `The PEM is labelled "${label}" but holds ${describeFormat(parsed)}, which is labelled "${expectedLabel}".`,
    );
  }
  return parsed;
}

function classify(root: DerNode, der: Bytes, label: string | undefined): ParsedKey | undefined {
  const parts = root.tag === Tag.sequence ? (root.children ?? []) : [];
  const [first, second, third] = parts;
  // SPKI: SEQUENCE { AlgorithmIdentifier, BIT STRING }
  if (parts.length === 2 && first?.tag === Tag.sequence && second?.tag === Tag.bitString) {
    return { kind: "public", format: "spki", ...algorithmOf(first), standardDer: der };
  }
  // PKCS#8: SEQUENCE { INTEGER 0|1, AlgorithmIdentifier, OCTET STRING, ... }
  if (
    first?.tag === Tag.integer &&
    second?.tag === Tag.sequence &&
    third?.tag === Tag.octetString
  ) {
    return { kind: "private", format: "pkcs8", ...algorithmOf(second), standardDer: der };
  }
  // SEC1: SEQUENCE { INTEGER 1, OCTET STRING, [0] curve OID?, [1] public key? }
  if (first?.tag === Tag.integer && second?.tag === Tag.octetString && isVersion(first, 1)) {
    return fromSec1(parts, label);
  }
  // PKCS#1 RSA: public SEQUENCE { n, e }; private SEQUENCE { 0, n, e, d, p, q, dp, dq, qi }
  if (parts.length >= 2 && parts.every((part) => part.tag === Tag.integer)) {
    const rsaAlgorithm = encodeDer(
      Tag.sequence,
      encodeObjectIdentifier(oid.rsaEncryption),
      encodeDer(Tag.null),
    );
    if (parts.length === 2) {
      const spki = encodeDer(
        Tag.sequence,
        rsaAlgorithm,
        encodeDer(Tag.bitString, Uint8Array.of(0), der),
      );
      return { kind: "public", format: "pkcs1", type: "RSA", standardDer: spki };
    }
    if (parts.length >= 9) {
      const pkcs8 = encodeDer(
        Tag.sequence,
        encodeDer(Tag.integer, Uint8Array.of(0)),
        rsaAlgorithm,
        encodeDer(Tag.octetString, der),
      );
      return { kind: "private", format: "pkcs1", type: "RSA", standardDer: pkcs8 };
    }
  }
  return undefined;
}

function fromSec1(parts: readonly DerNode[], label: string | undefined): ParsedKey {
  const curveField = parts.find((part) => part.tag === Tag.contextConstructed0)?.children?.[0];
  if (curveField?.tag !== Tag.objectIdentifier) {
    throw new PemError(
      "ERR_KEY_UNSUPPORTED",
      "Found a SEC1 EC private key that does not name its curve; convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt`.",
    );
  }
  const curveOid = readOid(curveField, label);
  const curve = curveByOid[curveOid];
  // RFC 5915 / 5208: ECPrivateKey without its redundant parameters, inside PKCS#8.
  const ecPrivateKey = encodeDer(
    Tag.sequence,
    ...parts.filter((part) => part.tag !== Tag.contextConstructed0).map(reencode),
  );
  const pkcs8 = encodeDer(
    Tag.sequence,
    encodeDer(Tag.integer, Uint8Array.of(0)),
    encodeDer(
      Tag.sequence,
      encodeObjectIdentifier(oid.ecPublicKey),
      encodeObjectIdentifier(curveOid),
    ),
    encodeDer(Tag.octetString, ecPrivateKey),
  );
  return {
    kind: "private",
    format: "sec1",
    type: "EC",
    ...(curve ? { curve } : {}),
    standardDer: pkcs8,
  };
}

function reencode(node: DerNode): Uint8Array {
  return encodeDer(node.tag, node.content);
}

function algorithmOf(identifier: DerNode): Pick<ParsedKey, "type" | "curve"> {
  const [algorithm, parameters] = identifier.children ?? [];
  if (algorithm?.tag !== Tag.objectIdentifier) return { type: "unknown" };
  const algorithmOid = readOid(algorithm, undefined);
  if (algorithmOid === oid.rsaEncryption) return { type: "RSA" };
  if (algorithmOid === oid.ed25519) return { type: "Ed25519" };
  if (algorithmOid !== oid.ecPublicKey) return { type: "unknown" };
  const curve =
    parameters?.tag === Tag.objectIdentifier
      ? curveByOid[readOid(parameters, undefined)]
      : undefined;
  return curve ? { type: "EC", curve } : { type: "EC" };
}

function readOid(node: DerNode, label: string | undefined): string {
  try {
    return decodeObjectIdentifier(node.content);
  } catch (error) {
    throw corrupt(label, error);
  }
}

/**
 * The SPKI DER of the key's public half, checked by Web Crypto: a key that Web Crypto refuses
 * is reported as corrupt here rather than failing later at signing or at Apple.
 */
async function publicSpkiOf(parsed: ParsedKey): Promise<Bytes> {
  const algorithm = webCryptoAlgorithm(parsed);
  if (!algorithm) {
    if (parsed.kind === "public") return parsed.standardDer;
    throw new PemError(
      "ERR_KEY_UNSUPPORTED",
      `Cannot derive the public key of ${describeFormat(parsed)}: the algorithm is not supported.`,
    );
  }
  const usages: KeyUsage[] = parsed.kind === "public" ? ["verify"] : ["sign"];
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      parsed.kind === "public" ? "spki" : "pkcs8",
      parsed.standardDer,
      algorithm,
      true,
      usages,
    );
  } catch (error) {
    throw new PemError(
      "ERR_KEY_CORRUPT",
      `Found ${describeFormat(parsed)} that is well-formed DER but not a valid key (Web Crypto refused it); it is probably damaged.`,
      { cause: error },
    );
  }
  if (parsed.kind === "public") return new Uint8Array(await crypto.subtle.exportKey("spki", key));
  const {
    d: _d,
    p: _p,
    q: _q,
    dp: _dp,
    dq: _dq,
    qi: _qi,
    ...publicJwk
  } = await crypto.subtle.exportKey("jwk", key);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { ...publicJwk, key_ops: ["verify"] },
    algorithm,
    true,
    ["verify"],
  );
  return new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
}

function webCryptoAlgorithm(
  parsed: ParsedKey,
): EcKeyImportParams | RsaHashedImportParams | Algorithm | undefined {
  if (parsed.type === "EC" && parsed.curve) return { name: "ECDSA", namedCurve: parsed.curve };
  if (parsed.type === "RSA") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  if (parsed.type === "Ed25519") return { name: "Ed25519" };
  return undefined;
}

function describeFormat(parsed: ParsedKey): string {
  const name = {
    spki: "an SPKI public key",
    pkcs8: "a PKCS#8 private key",
    sec1: "a SEC1 EC private key",
    pkcs1: `a PKCS#1 RSA ${parsed.kind} key`,
  }[parsed.format];
  const algorithm =
    parsed.type === "EC" ? `EC${parsed.curve ? ` ${parsed.curve}` : ""}` : parsed.type;
  return `${name} (${algorithm})`;
}

function isVersion(node: DerNode, version: number): boolean {
  return node.content.length === 1 && node.content[0] === version;
}

function corrupt(label: string | undefined, cause: unknown): PemError {
  const reason = cause instanceof DerSyntaxError ? `: ${cause.message}` : "";
  return new PemError(
    "ERR_KEY_CORRUPT",
    `${label ? `The ${label} block` : "The key"} is damaged: its DER does not parse${reason}. The base64 body was probably altered or cut; copy the key again from its source.`,
    { cause },
  );
}

async function sha256Hex(bytes: Bytes): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
