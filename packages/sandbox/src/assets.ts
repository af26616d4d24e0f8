import { zipSync } from "fflate";
import type { SandboxData, StoredPackageAsset } from "./state.js";

/**
 * The sandbox's stand-in for Apple's download CDN: each package version's zip (`manifest.json`
 * and `signature`) and each variant's and delta's `.ipa`, generated from the asset's id so that
 * any size costs no memory, behind expiring access keys (an expired or unknown key is a 403, as
 * a CDN answers), with range requests. The manifest carries real SHA-256 chunk digests.
 */
export interface AssetOptions {
  /** Bytes of each variant and delta. Default 192 KiB. */
  assetBytes?: number;
  /** The manifest's chunk size for digests. Default 64 KiB (Apple's large assets use 10 MiB). */
  assetChunkBytes?: number;
}

const defaultAssetBytes = 192 * 1024;
const defaultChunkBytes = 64 * 1024;
/** How much of an asset is generated at a time for a response. */
const pieceBytes = 1024 * 1024;
/** Issued access keys kept at once; the oldest are forgotten first. */
const maxAccessKeys = 10_000;

export function assetServer(data: SandboxData, options: AssetOptions, now: () => number) {
  const size = options.assetBytes ?? defaultAssetBytes;
  const chunkSize = options.assetChunkBytes ?? defaultChunkBytes;
  const accessKeys = new Map<string, { path: string; expires: number }>();
  const zips = new Map<string, Promise<Uint8Array>>();

  /** A download link for `path` and when it expires (its expiry leads the key, as Apple's). */
  function link(baseUrl: string, path: string, lifetimeMs: number) {
    const expires = now() + lifetimeMs;
    const key = `${Math.floor(expires / 1000)}_${crypto.randomUUID().replace(/-/g, "")}`;
    accessKeys.set(key, { path, expires });
    if (accessKeys.size > maxAccessKeys) accessKeys.delete(accessKeys.keys().next().value!);
    return {
      url: `${baseUrl}${path}?accessKey=${key}`,
      urlExpirationDate: new Date(expires).toISOString(),
    };
  }

  /** Answers a GET or HEAD under /assets/, or undefined when the path is not an asset. */
  async function serve(
    request: Request,
    url: URL,
    corrupt: boolean,
  ): Promise<Response | undefined> {
    const match =
      /^\/assets\/([^/]+)\/(?:(alternative-distribution-package\.zip)|(variant|delta)\/([^/]+)\.ipa)$/.exec(
        url.pathname,
      );
    if (!match) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const granted = accessKeys.get(url.searchParams.get("accessKey") ?? "");
    if (!granted || granted.path !== url.pathname || granted.expires <= now()) {
      return new Response(
        "<Error><Code>AccessDenied</Code><Message>Request has expired or the access key is not valid.</Message></Error>",
        {
          status: 403,
          headers: { "content-type": "application/xml" },
        },
      );
    }
    const [, versionId, zip, kind, assetId] = match;
    if (zip) {
      const bytes = await zipOf(versionId!);
      return ranged(
        request,
        bytes.byteLength,
        (start, end) => bytes.slice(start, end),
        "application/zip",
      );
    }
    const asset = (data.packageAssets ?? []).find(
      (item) => item.id === assetId && item.kind === kind && item.packageVersionId === versionId,
    );
    if (!asset) return new Response(null, { status: 404 });
    return ranged(
      request,
      size,
      (start, end) => {
        const bytes = content(asset.id, start, end);
        // A flipped byte in the middle of the asset: what a corrupt transfer looks like.
        const middle = Math.floor(size / 2);
        if (corrupt && middle >= start && middle < end) bytes[middle - start]! ^= 0xff;
        return bytes;
      },
      "application/octet-stream",
    );
  }

  async function digests(id: string): Promise<string[]> {
    const result: string[] = [];
    for (let chunk = 0; chunk * chunkSize < size; chunk++) {
      const bytes = content(id, chunk * chunkSize, Math.min(size, (chunk + 1) * chunkSize));
      result.push(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))));
    }
    return result;
  }

  function zipOf(versionId: string): Promise<Uint8Array> {
    let zip = zips.get(versionId);
    if (!zip) {
      zip = build(versionId);
      zips.set(versionId, zip);
    }
    return zip;
  }

  async function build(versionId: string): Promise<Uint8Array> {
    const version = (data.packageVersions ?? []).find((item) => item.id === versionId);
    const item = (data.packages ?? []).find((candidate) => candidate.id === version?.packageId);
    const appStoreVersion = (data.appStoreVersions ?? []).find(
      (candidate) => candidate.id === item?.appStoreVersionId,
    );
    const assets = (data.packageAssets ?? []).filter(
      (asset) => asset.packageVersionId === versionId,
    );
    const describe = async (asset: StoredPackageAsset) => ({
      publicId: asset.id,
      assetPath: `${asset.kind}/${asset.id}.ipa`,
      installTargets: [{ device: asset.installTarget ?? "iPhone", os: "17.4" }],
      variantDetails: {
        compressedSize: size,
        uncompressedSize: size * 2,
        hashes: [
          { algorithm: "sha256", chunkSize, encryptedChunkDigests: await digests(asset.id) },
        ],
      },
    });
    const versionString = appStoreVersion?.versionString ?? "1.0";
    // Each package version published is a build of its own: bundle versions 1, 2, 3, … and
    // version strings 1.0, 1.0.2, 1.0.3, …
    const sequence =
      (data.packageVersions ?? [])
        .filter((candidate) => candidate.packageId === version?.packageId)
        .findIndex((candidate) => candidate.id === versionId) + 1;
    const manifest = {
      appleItemId: appStoreVersion?.appId ?? "",
      // Apple's version ids are numbers in strings; the App Store version's resource id is not one.
      appleVersionId: appleVersionIdOf(versionId),
      bundleId: `com.example.app${appStoreVersion?.appId ?? ""}`,
      shortVersionString: sequence > 1 ? `${versionString}.${sequence}` : versionString,
      bundleVersion: String(Math.max(sequence, 1)),
      platforms: ["iOS"],
      minimumSystemVersions: { iOS: "17.4" },
      requiredDeviceCapabilities: ["arm64"],
      variants: await Promise.all(assets.filter((asset) => asset.kind === "variant").map(describe)),
      deltas: await Promise.all(assets.filter((asset) => asset.kind === "delta").map(describe)),
    };
    // The real signature is Apple's, over the manifest; a sandbox cannot make one.
    const signature = content(`${versionId}-signature`, 0, 256);
    return zipSync({
      "manifest.json": new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
      signature,
    });
  }

  return { link, serve, forget: (versionId: string) => zips.delete(versionId) };
}

/**
 * A package version's `appleVersionId`, as Apple gives them (digits in a string): the same for
 * the same version in every run, from its id (FNV-1a), above 2,000,000,000 as Apple's are.
 */
export function appleVersionIdOf(versionId: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < versionId.length; index++) {
    hash = Math.imul(hash ^ versionId.charCodeAt(index), 0x01000193) >>> 0;
  }
  return String(2_000_000_000 + hash);
}

/** A response for bytes of a known length, honouring one `Range: bytes=a-b` or `bytes=a-`. */
function ranged(
  request: Request,
  length: number,
  slice: (start: number, end: number) => Uint8Array,
  type: string,
): Response {
  const range = request.headers.get("range");
  let start = 0;
  let end = length;
  let status = 200;
  const headers: Record<string, string> = { "content-type": type, "accept-ranges": "bytes" };
  if (range !== null) {
    const parsed = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
    const from = parsed ? Number(parsed[1]) : Number.NaN;
    const to = parsed?.[2] ? Number(parsed[2]) + 1 : length;
    if (!parsed || from >= length || to <= from) {
      return new Response(null, { status: 416, headers: { "content-range": `bytes */${length}` } });
    }
    start = from;
    end = Math.min(to, length);
    status = 206;
    headers["content-range"] = `bytes ${start}-${end - 1}/${length}`;
  }
  headers["content-length"] = String(end - start);
  if (request.method === "HEAD") return new Response(null, { status, headers });
  // Generated a piece at a time as the client reads: any size, little memory.
  let offset = start;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = Math.min(end, offset + pieceBytes);
      controller.enqueue(slice(offset, next));
      offset = next;
      if (offset >= end) controller.close();
    },
  });
  return new Response(body, { status, headers });
}

/** Bytes generated at once per asset, repeated with each repetition numbered. */
const blockBytes = 64 * 1024;
/** Blocks kept at once (64 KiB each); the oldest are dropped first. */
const maxBlocks = 64;
const blocks = new Map<string, Uint8Array>();

/**
 * Bytes `start` to `end` (exclusive) of the asset `id`: a 64 KiB block seeded from the id
 * (xorshift32), repeated, with each repetition's first 8 bytes holding its index, so every
 * chunk has its own digest. Copying a block is what makes a 256 MB asset cheap to serve: the
 * sandbox must outrun the client it is measured with.
 */
function content(id: string, start: number, end: number): Uint8Array<ArrayBuffer> {
  const block = blockOf(id);
  const bytes = new Uint8Array(end - start);
  for (let from = start - (start % blockBytes); from < end; from += blockBytes) {
    const lower = Math.max(start, from);
    const upper = Math.min(end, from + blockBytes);
    bytes.set(block.subarray(lower - from, upper - from), lower - start);
    const index = from / blockBytes;
    for (let byte = 0; byte < 8; byte++) {
      const at = from + byte;
      if (at >= lower && at < upper) bytes[at - start] = Math.floor(index / 256 ** byte) & 0xff;
    }
  }
  return bytes;
}

function blockOf(id: string): Uint8Array {
  let block = blocks.get(id);
  if (block) return block;
  let state = 2166136261;
  for (let index = 0; index < id.length; index++) {
    state = Math.imul(state ^ id.charCodeAt(index), 16777619);
  }
  state = state >>> 0 || 1;
  const words = new Uint32Array(blockBytes / 4);
  for (let index = 0; index < words.length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[index] = state >>> 0;
  }
  block = new Uint8Array(words.buffer);
  blocks.set(id, block);
  if (blocks.size > maxBlocks) blocks.delete(blocks.keys().next().value!);
  return block;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
