import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PackageError, parsePackageManifest, verifiedAsset } from "./index.js";
import type { ManifestAsset } from "./index.js";

const chunkSize = 1000;
const content = Uint8Array.from({ length: 2500 }, (_, index) => (index * 7) % 251);
const digests = (bytes: Uint8Array, encoding: "hex" | "base64" = "hex") =>
  Array.from({ length: Math.ceil(bytes.byteLength / chunkSize) }, (_, index) =>
    createHash("sha256")
      .update(bytes.subarray(index * chunkSize, (index + 1) * chunkSize))
      .digest(encoding),
  );

function manifest(overrides: Record<string, unknown> = {}) {
  return {
    appleItemId: "6476788026",
    appleVersionId: "1",
    bundleId: "com.example.app",
    variants: [
      {
        publicId: "v1",
        assetPath: "variant/v1.ipa",
        installTargets: [{ device: "iPhone", os: "17.0" }],
        variantDetails: {
          compressedSize: content.byteLength,
          uncompressedSize: 9999,
          hashes: [{ algorithm: "sha256", chunkSize, encryptedChunkDigests: digests(content) }],
        },
      },
    ],
    deltas: [],
    ...overrides,
  };
}

async function pipe(asset: ManifestAsset, bytes: Uint8Array, pieceSize: number) {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.byteLength; offset += pieceSize) {
        controller.enqueue(bytes.slice(offset, offset + pieceSize));
      }
      controller.close();
    },
  });
  const passed: Uint8Array[] = [];
  try {
    await source
      .pipeThrough(verifiedAsset(asset))
      .pipeTo(new WritableStream({ write: (chunk) => void passed.push(chunk) }));
    return { passed: Buffer.concat(passed), error: undefined };
  } catch (error) {
    return { passed: Buffer.concat(passed), error: error as PackageError };
  }
}

describe("parsePackageManifest", () => {
  it("reads what asc-kit needs and keeps the rest", () => {
    const parsed = parsePackageManifest(JSON.stringify(manifest()));
    expect(parsed.variants[0]).toMatchObject({ publicId: "v1", assetPath: "variant/v1.ipa" });
    expect(parsed.raw.appleVersionId).toBe("1");
  });

  it.each([
    ["a path out of the layout", { assetPath: "variant/../../etc/passwd.ipa" }],
    ["an absolute path", { assetPath: "/etc/v1.ipa" }],
    ["a delta folder for a variant", { assetPath: "delta/v1.ipa" }],
    [
      "too few digests",
      {
        variantDetails: {
          compressedSize: 2500,
          hashes: [{ algorithm: "sha256", chunkSize, encryptedChunkDigests: ["0".repeat(64)] }],
        },
      },
    ],
    [
      "another algorithm",
      {
        variantDetails: {
          compressedSize: 1,
          hashes: [{ algorithm: "md5", chunkSize, encryptedChunkDigests: ["0".repeat(64)] }],
        },
      },
    ],
  ])("refuses %s", (_name, change) => {
    const [variant] = manifest().variants;
    const text = JSON.stringify(manifest({ variants: [{ ...variant, ...change }] }));
    expect(() => parsePackageManifest(text)).toThrow(
      expect.objectContaining({ code: "ERR_MANIFEST_INVALID" }),
    );
  });

  it("refuses two assets on one path, and anything past 1 MiB before parsing it", () => {
    const [variant] = manifest().variants;
    expect(() =>
      parsePackageManifest(JSON.stringify(manifest({ variants: [variant, variant] }))),
    ).toThrow(/share the path variant\/v1\.ipa/);
    expect(() => parsePackageManifest("[".repeat(2_000_000))).toThrow(
      expect.objectContaining({ code: "ERR_MANIFEST_TOO_LARGE" }),
    );
  });
});

describe("verifiedAsset", () => {
  const asset = () => parsePackageManifest(JSON.stringify(manifest())).variants[0]!;

  it.each([1, 333, 1000, 4096])(
    "passes an intact asset through, in pieces of %i bytes",
    async (size) => {
      const { passed, error } = await pipe(asset(), content, size);
      expect(error).toBeUndefined();
      expect(passed.equals(Buffer.from(content))).toBe(true);
    },
  );

  it("takes base64 digests too", async () => {
    const base64 = manifest();
    base64.variants[0]!.variantDetails.hashes[0]!.encryptedChunkDigests = digests(
      content,
      "base64",
    );
    const parsed = parsePackageManifest(JSON.stringify(base64)).variants[0]!;
    expect((await pipe(parsed, content, 700)).error).toBeUndefined();
  });

  it("stops at a corrupt chunk, naming it, having passed only the chunks before it", async () => {
    const corrupt = content.slice();
    corrupt[1500] = corrupt[1500]! ^ 1;
    const { passed, error } = await pipe(asset(), corrupt, 256);
    expect(error).toBeInstanceOf(PackageError);
    expect(error).toMatchObject({
      code: "ERR_CHUNK_DIGEST",
      detail: { assetPath: "variant/v1.ipa", chunk: 1 },
    });
    expect(passed.byteLength).toBe(chunkSize);
  });

  it("verifies the rest of an asset from a chunk on, to resume a download", async () => {
    const asset_ = asset();
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(content.slice(chunkSize));
        controller.close();
      },
    });
    let bytes = 0;
    await source
      .pipeThrough(verifiedAsset(asset_, { fromChunk: 1 }))
      .pipeTo(new WritableStream({ write: (chunk) => void (bytes += chunk.byteLength) }));
    expect(bytes).toBe(content.byteLength - chunkSize);
    expect(() => verifiedAsset(asset_, { fromChunk: 4 })).toThrow(TypeError);
  });

  it("refuses an asset cut short or too long", async () => {
    expect((await pipe(asset(), content.slice(0, 2400), 500)).error?.code).toBe("ERR_ASSET_SIZE");
    const longer = new Uint8Array(2600);
    longer.set(content);
    expect((await pipe(asset(), longer, 500)).error?.code).toBe("ERR_ASSET_SIZE");
  });
});
