import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { PackageError } from "@asc-kit/core";
import type { ManifestAsset } from "@asc-kit/core";

/**
 * Checks an asset against the manifest's chunk digests as its bytes arrive, hashing each piece
 * on arrival. Node's incremental SHA-256 is why this is not core's `verifiedAsset`: Web Crypto
 * digests a whole chunk at once, so each 10 MiB chunk would be held in memory and hashed after
 * it arrived instead of while it arrives.
 *
 * Errors are core's `PackageError`s: `ERR_CHUNK_DIGEST` naming the asset and chunk, and
 * `ERR_ASSET_SIZE` when more or fewer bytes arrive than the manifest says.
 */
export class ChunkVerifier {
  readonly #asset: ManifestAsset;
  readonly #chunkSize: number;
  readonly #digests: readonly string[];
  #hash: Hash = createHash("sha256");
  #chunk: number;
  #inChunk = 0;
  #position: number;

  constructor(asset: ManifestAsset, fromChunk = 0) {
    this.#asset = asset;
    this.#chunkSize = asset.hashes[0]!.chunkSize;
    this.#digests = asset.hashes[0]!.encryptedChunkDigests;
    this.#chunk = fromChunk;
    this.#position = fromChunk * this.#chunkSize;
  }

  /** Bytes from the start of the asset that are verified: whole chunks, or the whole asset. */
  get verifiedBytes(): number {
    return Math.min(this.#chunk * this.#chunkSize, this.#asset.compressedSize);
  }

  /** Takes the next bytes; throws at the end of a chunk that does not match its digest. */
  update(piece: Uint8Array): void {
    if (this.#position + piece.byteLength > this.#asset.compressedSize) {
      throw sizeError(this.#asset, this.#position + piece.byteLength);
    }
    this.#position += piece.byteLength;
    let offset = 0;
    while (offset < piece.byteLength) {
      const take = Math.min(this.#chunkSize - this.#inChunk, piece.byteLength - offset);
      this.#hash.update(piece.subarray(offset, offset + take));
      this.#inChunk += take;
      offset += take;
      if (this.#inChunk === this.#chunkSize) this.#check();
    }
  }

  /** Ends the asset: checks its size and its last, shorter chunk. */
  finish(): void {
    if (this.#position !== this.#asset.compressedSize) {
      throw sizeError(this.#asset, this.#position);
    }
    if (this.#inChunk > 0 || this.#asset.compressedSize === 0) this.#check();
  }

  #check(): void {
    const digest = this.#hash.digest();
    const expected = this.#digests[this.#chunk];
    const given =
      expected === undefined
        ? undefined
        : Buffer.from(expected, expected.length === 64 ? "hex" : "base64");
    if (!given || !given.equals(digest)) {
      const start = this.#chunk * this.#chunkSize;
      throw new PackageError(
        "ERR_CHUNK_DIGEST",
        `${this.#asset.assetPath}: chunk ${this.#chunk} (bytes ${start} to ${start + this.#inChunk - 1}) does not match the manifest's digest. The download is corrupt: fetch it again.`,
        { assetPath: this.#asset.assetPath, chunk: this.#chunk },
      );
    }
    this.#chunk++;
    this.#inChunk = 0;
    this.#hash = createHash("sha256");
  }
}

/**
 * How many bytes at the start of the file at `path` are the asset's, verified: the whole asset
 * when the file is complete and correct, else its whole chunks up to the first that does not
 * match (0 when there is no file). What a crashed run left is checked, never trusted.
 */
export async function verifiedPrefix(path: string, asset: ManifestAsset): Promise<number> {
  return (await verifyFile(path, asset)).verifiedBytes;
}

/** The file at `path` checked against the asset: the bytes verified, and why it stopped short. */
export async function verifyFile(
  path: string,
  asset: ManifestAsset,
): Promise<{ verifiedBytes: number; error?: unknown }> {
  const verifier = new ChunkVerifier(asset);
  const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const piece of file as AsyncIterable<Buffer>) verifier.update(piece);
    verifier.finish();
    return { verifiedBytes: asset.compressedSize };
  } catch (error) {
    return { verifiedBytes: verifier.verifiedBytes, error };
  } finally {
    file.destroy();
  }
}

function sizeError(asset: ManifestAsset, size: number): PackageError {
  return new PackageError(
    "ERR_ASSET_SIZE",
    `${asset.assetPath}: ${size} bytes arrived where the manifest says ${asset.compressedSize}.`,
    { assetPath: asset.assetPath },
  );
}
