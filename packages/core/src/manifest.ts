/**
 * The manifest of an alternative distribution package (`manifest.json` in the version's zip)
 * and the check of each asset against it, with Web APIs only. Everything the manifest says is
 * validated before use: an `assetPath` becomes a file path on the disk of whoever lays the
 * package out, so it is held to `variant/<name>.ipa` or `delta/<name>.ipa`.
 */

/** Why a manifest or an asset was refused; `code` is stable, the message says what to do. */
export class PackageError extends Error {
  override readonly name = "PackageError";
  constructor(
    readonly code:
      "ERR_MANIFEST_TOO_LARGE" | "ERR_MANIFEST_INVALID" | "ERR_CHUNK_DIGEST" | "ERR_ASSET_SIZE",
    message: string,
    /** For asset errors: the asset's path and the 0-based chunk that failed. */
    readonly detail: { assetPath?: string; chunk?: number } = {},
  ) {
    super(message);
  }
}

/** How an asset is hashed: SHA-256 over each `chunkSize` bytes, in order. */
export interface ChunkHashes {
  algorithm: "sha256";
  chunkSize: number;
  /** One digest per chunk, lower-case hex or base64, as the manifest gives them. */
  encryptedChunkDigests: string[];
}

/** A variant or a delta as the manifest describes it. */
export interface ManifestAsset {
  publicId: string;
  /** Where the asset goes under the base URL: `variant/<publicId>.ipa` or `delta/…`. */
  assetPath: string;
  compressedSize: number;
  hashes: ChunkHashes[];
}

/** What asc-kit reads of a manifest; `raw` keeps everything else Apple put in it. */
export interface PackageManifest {
  appleItemId: string;
  bundleId: string;
  variants: ManifestAsset[];
  deltas: ManifestAsset[];
  raw: Record<string, unknown>;
}

/** A manifest is a few kilobytes; past this it is not one. */
export const maxManifestBytes = 1024 * 1024;
const maxAssets = 1000;
const assetPathPattern = /^(variant|delta)\/[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.ipa$/;

/**
 * Parses and validates `manifest.json`.
 *
 * @example
 * ```ts
 * import { parsePackageManifest } from "@asc-kit/core";
 *
 * const manifest = parsePackageManifest(manifestText);
 * for (const variant of manifest.variants) console.log(variant.assetPath, variant.compressedSize);
 * ```
 */
export function parsePackageManifest(text: string): PackageManifest {
  if (typeof text !== "string") throw new TypeError("The manifest must be text (manifest.json).");
  if (text.length > maxManifestBytes) {
    throw new PackageError(
      "ERR_MANIFEST_TOO_LARGE",
      `The manifest is ${text.length} characters, more than ${maxManifestBytes}: it is not a package manifest.`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid("it is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw invalid("it is not an object");
  const record = raw as Record<string, unknown>;
  const variants = assets(record.variants, "variants", "variant");
  const deltas = record.deltas === undefined ? [] : assets(record.deltas, "deltas", "delta");
  if (variants.length + deltas.length > maxAssets)
    throw invalid(`it lists more than ${maxAssets} assets`);
  const paths = new Set<string>();
  for (const asset of [...variants, ...deltas]) {
    if (paths.has(asset.assetPath)) throw invalid(`two assets share the path ${asset.assetPath}`);
    paths.add(asset.assetPath);
  }
  return {
    appleItemId: text_(record.appleItemId, "appleItemId"),
    bundleId: text_(record.bundleId, "bundleId"),
    variants,
    deltas,
    raw: record,
  };
}

function assets(value: unknown, field: string, folder: "variant" | "delta"): ManifestAsset[] {
  if (!Array.isArray(value)) throw invalid(`${field} is not a list`);
  return value.map((entry: unknown, index) => {
    const where = `${field}[${index}]`;
    if (typeof entry !== "object" || entry === null) throw invalid(`${where} is not an object`);
    const item = entry as Record<string, unknown>;
    const assetPath = text_(item.assetPath, `${where}.assetPath`);
    if (!assetPathPattern.test(assetPath) || !assetPath.startsWith(`${folder}/`)) {
      throw invalid(
        `${where}.assetPath must be ${folder}/<name>.ipa, not ${JSON.stringify(assetPath.slice(0, 100))}`,
      );
    }
    // Apple documents variantDetails; a delta's may be named either way.
    const details = (item[`${folder}Details`] ?? item.variantDetails) as
      Record<string, unknown> | undefined;
    if (typeof details !== "object" || details === null)
      throw invalid(`${where}.${folder}Details is missing`);
    const compressedSize = count(
      details.compressedSize,
      `${where}.${folder}Details.compressedSize`,
    );
    if (!Array.isArray(details.hashes) || details.hashes.length === 0) {
      throw invalid(`${where}.${folder}Details.hashes is missing`);
    }
    const hashes = details.hashes.map((hash: unknown, hashIndex) =>
      chunkHashes(hash, compressedSize, `${where}.${folder}Details.hashes[${hashIndex}]`),
    );
    return {
      publicId: text_(item.publicId, `${where}.publicId`),
      assetPath,
      compressedSize,
      hashes,
    };
  });
}

function chunkHashes(value: unknown, size: number, where: string): ChunkHashes {
  const hash = (value ?? {}) as Record<string, unknown>;
  if (String(hash.algorithm).toLowerCase() !== "sha256")
    throw invalid(`${where}.algorithm must be sha256`);
  const chunkSize = count(hash.chunkSize, `${where}.chunkSize`);
  if (chunkSize === 0) throw invalid(`${where}.chunkSize must be more than 0`);
  const digests = hash.encryptedChunkDigests;
  const expected = Math.max(1, Math.ceil(size / chunkSize));
  if (!Array.isArray(digests) || digests.length !== expected) {
    throw invalid(`${where}.encryptedChunkDigests must list ${expected} digests for ${size} bytes`);
  }
  for (const digest of digests) {
    if (typeof digest !== "string" || !/^([0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$/.test(digest)) {
      throw invalid(`${where}.encryptedChunkDigests holds a value that is not a SHA-256 digest`);
    }
  }
  return { algorithm: "sha256", chunkSize, encryptedChunkDigests: digests as string[] };
}

function text_(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "" || value.length > 1000) {
    throw invalid(`${where} must be a non-empty string`);
  }
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${where} must be a whole number`);
  }
  return value;
}

function invalid(reason: string): PackageError {
  return new PackageError("ERR_MANIFEST_INVALID", `The package manifest is not valid: ${reason}.`);
}

/**
 * A stream that passes an asset through only once each chunk has matched its digest, so that
 * what reaches the disk is verified, holding one chunk in memory at a time. A mismatch, or a
 * size other than the manifest's, errors the stream with a `PackageError` naming the asset and
 * the chunk.
 *
 * @example
 * ```ts
 * import { verifiedAsset } from "@asc-kit/core";
 *
 * const response = await fetch(variantUrl);
 * const verified = response.body!.pipeThrough(verifiedAsset(asset));
 * ```
 */
export function verifiedAsset(
  asset: ManifestAsset,
  options: {
    /** Verify from this chunk on, to resume a download from byte `fromChunk * chunkSize`. */
    fromChunk?: number;
  } = {},
): TransformStream<Uint8Array, Uint8Array> {
  const hashes = asset.hashes[0]!;
  const { chunkSize } = hashes;
  const fromChunk = options.fromChunk ?? 0;
  if (
    !Number.isSafeInteger(fromChunk) ||
    fromChunk < 0 ||
    fromChunk * chunkSize > asset.compressedSize
  ) {
    throw new TypeError("fromChunk must be a chunk index within the asset.");
  }
  // Pieces not yet checked, copied once into a chunk when there are enough of them.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let chunk = fromChunk;
  let total = fromChunk * chunkSize;
  const take = (size: number): Uint8Array => {
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const piece = pending[0]!;
      const used = Math.min(piece.byteLength, size - filled);
      bytes.set(piece.subarray(0, used), filled);
      filled += used;
      if (used === piece.byteLength) pending.shift();
      else pending[0] = piece.subarray(used);
    }
    pendingBytes -= size;
    return bytes;
  };
  const check = async (
    bytes: Uint8Array,
    controller: TransformStreamDefaultController<Uint8Array>,
  ) => {
    const expected = hashes.encryptedChunkDigests[chunk];
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
    );
    if (expected === undefined || !sameDigest(digest, expected)) {
      throw new PackageError(
        "ERR_CHUNK_DIGEST",
        `${asset.assetPath}: chunk ${chunk} (bytes ${chunk * chunkSize} to ${chunk * chunkSize + bytes.byteLength - 1}) does not match the manifest's digest. The download is corrupt: fetch it again.`,
        { assetPath: asset.assetPath, chunk },
      );
    }
    chunk++;
    controller.enqueue(bytes);
  };
  return new TransformStream({
    async transform(piece, controller) {
      total += piece.byteLength;
      if (total > asset.compressedSize) throw sizeError(asset, total);
      pending.push(piece);
      pendingBytes += piece.byteLength;
      while (pendingBytes >= chunkSize) await check(take(chunkSize), controller);
    },
    async flush(controller) {
      if (total !== asset.compressedSize) throw sizeError(asset, total);
      if (pendingBytes > 0 || asset.compressedSize === 0)
        await check(take(pendingBytes), controller);
      pending = [];
    },
  });
}

function sizeError(asset: ManifestAsset, size: number): PackageError {
  return new PackageError(
    "ERR_ASSET_SIZE",
    `${asset.assetPath}: ${size} bytes arrived where the manifest says ${asset.compressedSize}.`,
    { assetPath: asset.assetPath },
  );
}

function sameDigest(digest: Uint8Array, expected: string): boolean {
  const given = expected.length === 64 ? hexBytes(expected) : base64Bytes(expected);
  if (given.byteLength !== digest.byteLength) return false;
  let difference = 0;
  for (let index = 0; index < digest.byteLength; index++)
    difference |= digest[index]! ^ given[index]!;
  return difference === 0;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from({ length: hex.length / 2 }, (_, index) =>
    Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16),
  );
}

function base64Bytes(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
}
