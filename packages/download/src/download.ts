import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import {
  getAlternativeDistributionPackageDelta,
  getAlternativeDistributionPackageVariant,
  getAlternativeDistributionPackageVersion,
  parsePackageManifest,
  verifiedAsset,
} from "@asc-kit/core";
import type {
  AlternativeDistributionPackageDelta,
  AlternativeDistributionPackageVariant,
  AppStoreConnectClient,
  ManifestAsset,
  PackageManifest,
} from "@asc-kit/core";
import { unzipSync } from "fflate";

/** A download that cannot go on: `code` is stable, the message says what to do. */
export class DownloadError extends Error {
  override readonly name = "DownloadError";
  constructor(
    readonly code: "ERR_DOWNLOAD_HTTP" | "ERR_DOWNLOAD_ZIP" | "ERR_LAYOUT",
    message: string,
  ) {
    super(message);
  }
}

export interface DownloadOptions {
  /** The folder to lay the package out in: what the distribution domain serves. */
  out: string;
  /**
   * Where the key blobs go (mode 0600). Default `<out>.key-blobs.json`, beside the folder and
   * never in it: the folder is served to the world, the key blobs are secrets.
   */
  keyBlobs?: string;
  /** The fetch for download URLs. Default `globalThis.fetch`. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Downloads at once. Default 2. */
  concurrency?: number;
  /** Attempts per asset when a transfer breaks off; each resumes where it stopped. Default 4. */
  attempts?: number;
  /** Called as bytes arrive. */
  onProgress?: (progress: { assetPath: string; bytes: number; total: number }) => void;
}

/** One asset of the layout, and how it came to be there. */
export interface DownloadedAsset {
  kind: "variant" | "delta";
  publicId: string;
  assetPath: string;
  bytes: number;
  /** False when a verified copy was there already (a second run downloads only what is new). */
  downloaded: boolean;
  /** The byte a broken-off transfer resumed from, when one did. */
  resumedFrom?: number;
}

export interface DownloadResult {
  out: string;
  keyBlobs: string;
  appleItemId: string;
  bundleId: string;
  assets: DownloadedAsset[];
}

const maxZipBytes = 16 * 1024 * 1024;

/**
 * Downloads a package version and lays it out for install: `manifest.json` and `signature`
 * from the version's zip, then every variant and delta at its `assetPath`, each verified chunk
 * by chunk against the manifest as it streams (nothing unverified reaches the final file),
 * resuming a broken-off transfer with a range request and refreshing an expired link. Ends with
 * a layout check: every asset present, nothing else in the folder.
 *
 * @example
 * ```ts
 * import { downloadPackageVersion } from "@asc-kit/download";
 *
 * const result = await downloadPackageVersion(client, "a-version-id", { out: "./package" });
 * console.log(result.assets.map((asset) => asset.assetPath));
 * ```
 */
export async function downloadPackageVersion(
  client: AppStoreConnectClient,
  versionId: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const fetchUrl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const keyBlobs = options.keyBlobs ?? `${options.out.replace(/[/\\]+$/, "")}.key-blobs.json`;
  if (isInside(options.out, keyBlobs)) {
    throw new TypeError("keyBlobs must be outside the served folder: the key blobs are secrets.");
  }
  const contents = await getAlternativeDistributionPackageVersion(client, versionId);
  if (contents.error) throw contents.error;
  const { version, variants, deltas } = contents.data;

  const zip = await fetchWhole(fetchUrl, version.attributes?.url, "the version's zip", async () => {
    const again = await getAlternativeDistributionPackageVersion(client, versionId);
    if (again.error) throw again.error;
    return again.data.version.attributes?.url;
  });
  const { manifestText, signature } = unzip(zip);
  const manifest = parsePackageManifest(manifestText);
  await mkdir(options.out, { recursive: true });
  await writeAtomically(join(options.out, "manifest.json"), manifestText);
  await writeAtomically(join(options.out, "signature"), signature);

  const resources = new Map<string, Resource>();
  for (const variant of variants) resources.set(`variant:${variant.id}`, variant);
  for (const delta of deltas) resources.set(`delta:${delta.id}`, delta);
  const planned = [
    ...manifest.variants.map((asset) => ({ asset, kind: "variant" as const })),
    ...manifest.deltas.map((asset) => ({ asset, kind: "delta" as const })),
  ];
  const blobs: Record<string, { kind: string; assetPath: string; keyBlob: string }> = {};
  const assets = await inParallel(options.concurrency ?? 2, planned, async ({ asset, kind }) => {
    const refresh = () => readResource(client, kind, asset.publicId);
    const resource = resources.get(`${kind}:${asset.publicId}`) ?? (await refresh());
    const keyBlob = resource.attributes?.alternativeDistributionKeyBlob;
    if (keyBlob) blobs[asset.publicId] = { kind, assetPath: asset.assetPath, keyBlob };
    const placed = await place(asset, resource, refresh, fetchUrl, options);
    return { kind, publicId: asset.publicId, assetPath: asset.assetPath, ...placed };
  });
  await writeAtomically(keyBlobs, `${JSON.stringify(blobs, null, 2)}\n`, 0o600);
  await checkLayout(options.out, manifest);
  return {
    out: options.out,
    keyBlobs,
    appleItemId: manifest.appleItemId,
    bundleId: manifest.bundleId,
    assets,
  };
}

type Resource = AlternativeDistributionPackageVariant | AlternativeDistributionPackageDelta;

async function readResource(
  client: AppStoreConnectClient,
  kind: "variant" | "delta",
  id: string,
): Promise<Resource> {
  const result =
    kind === "variant"
      ? await getAlternativeDistributionPackageVariant(client, id)
      : await getAlternativeDistributionPackageDelta(client, id);
  if (result.error) throw result.error;
  return result.data;
}

/** One asset at its path: kept if a verified copy is there, else downloaded, resuming. */
async function place(
  asset: ManifestAsset,
  resource: Resource,
  refresh: () => Promise<Resource>,
  fetchUrl: NonNullable<DownloadOptions["fetch"]>,
  options: DownloadOptions,
): Promise<{ bytes: number; downloaded: boolean; resumedFrom?: number }> {
  const target = join(options.out, ...asset.assetPath.split("/"));
  if (await verifiedFile(target, asset)) {
    return { bytes: asset.compressedSize, downloaded: false };
  }
  await rm(target, { force: true });
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.part`;
  const chunkSize = asset.hashes[0]!.chunkSize;
  let url = resource.attributes?.url;
  let resumedFrom: number | undefined;
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    // What a broken-off transfer left is verified already: resume from its last whole chunk.
    const kept = await keptBytes(partial, chunkSize);
    if (kept > 0) resumedFrom ??= kept;
    const fetched = await fetchFresh(
      fetchUrl,
      url,
      kept,
      async () => (await refresh()).attributes?.url,
    );
    url = fetched.url;
    const response = fetched.response;
    const from = response.status === 206 ? kept : 0;
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel().catch(() => undefined);
      throw new DownloadError(
        "ERR_DOWNLOAD_HTTP",
        `${asset.assetPath}: the download answered ${response.status}.`,
      );
    }
    const transfer = await append(partial, from, response, asset, options.onProgress).then(
      () => undefined,
      (failure: TransferFailure) => failure,
    );
    if (!transfer) break;
    // A transfer that broke off keeps its verified chunks; a digest that does not match loses all.
    if (!transfer.brokeOff) {
      await rm(partial, { force: true });
      throw transfer.error;
    }
    if (attempt >= attempts) throw transfer.error;
  }
  await rename(partial, target);
  return {
    bytes: asset.compressedSize,
    downloaded: true,
    ...(resumedFrom === undefined ? {} : { resumedFrom }),
  };
}

/** Fetches a download link; one that has expired (403 or 410) is refreshed once and fetched again. */
async function fetchFresh(
  fetchUrl: NonNullable<DownloadOptions["fetch"]>,
  url: string | undefined,
  from: number,
  refresh: () => Promise<string | undefined>,
): Promise<{ response: Response; url: string | undefined }> {
  const response = await request(fetchUrl, url, from);
  if (response.status !== 403 && response.status !== 410) return { response, url };
  await response.body?.cancel().catch(() => undefined);
  const fresh = await refresh();
  return { response: await request(fetchUrl, fresh, from), url: fresh };
}

async function request(
  fetchUrl: NonNullable<DownloadOptions["fetch"]>,
  url: string | undefined,
  from: number,
): Promise<Response> {
  if (!url) throw new DownloadError("ERR_DOWNLOAD_HTTP", "App Store Connect gave no download URL.");
  return fetchUrl(url, from > 0 ? { headers: { range: `bytes=${from}-` } } : {});
}

/** Why a transfer did not complete: `brokeOff` when the connection failed, not the data. */
interface TransferFailure {
  error: unknown;
  brokeOff: boolean;
}

/**
 * Streams the verified body onto the partial file, from byte `from`. A connection that breaks
 * off ends the stream early instead of erroring it, so that every chunk verified before the
 * break is written (and kept for the next attempt); it is reported as `brokeOff`.
 */
async function append(
  partial: string,
  from: number,
  response: Response,
  asset: ManifestAsset,
  onProgress: DownloadOptions["onProgress"],
): Promise<void> {
  const chunkSize = asset.hashes[0]!.chunkSize;
  let broke: unknown;
  const reader = response.body!.getReader();
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        broke = error;
        controller.close();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const file = await open(partial, from > 0 ? "r+" : "w");
  try {
    await file.truncate(from);
    let position = from;
    const verified = source.pipeThrough(verifiedAsset(asset, { fromChunk: from / chunkSize }));
    for await (const chunk of verified as unknown as AsyncIterable<Uint8Array>) {
      await file.write(chunk, 0, chunk.byteLength, position);
      position += chunk.byteLength;
      onProgress?.({ assetPath: asset.assetPath, bytes: position, total: asset.compressedSize });
    }
    await file.sync();
  } catch (error) {
    // Cut short, the asset is too small for the manifest: that is the break, not bad data.
    throw { error: broke ?? error, brokeOff: broke !== undefined } satisfies TransferFailure;
  } finally {
    await file.close();
  }
  if (broke !== undefined) throw { error: broke, brokeOff: true } satisfies TransferFailure;
}

/** The bytes of a partial file to keep: whole chunks only (they were verified as written). */
async function keptBytes(partial: string, chunkSize: number): Promise<number> {
  const size = await stat(partial).then(
    (info) => info.size,
    () => 0,
  );
  return size - (size % chunkSize);
}

/** Whether a complete, verified copy of the asset is at `path`. */
async function verifiedFile(path: string, asset: ManifestAsset): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info || info.size !== asset.compressedSize) return false;
  const file = createReadStream(path);
  try {
    const stream = Readable.toWeb(file) as unknown as ReadableStream<Uint8Array>;
    await stream.pipeThrough(verifiedAsset(asset)).pipeTo(new WritableStream());
    return true;
  } catch {
    return false;
  } finally {
    file.destroy();
  }
}

async function fetchWhole(
  fetchUrl: NonNullable<DownloadOptions["fetch"]>,
  url: string | undefined,
  what: string,
  refresh: () => Promise<string | undefined>,
): Promise<Uint8Array> {
  const { response } = await fetchFresh(fetchUrl, url, 0, refresh);
  if (!response.ok) {
    throw new DownloadError(
      "ERR_DOWNLOAD_HTTP",
      `Downloading ${what} answered ${response.status}.`,
    );
  }
  const length = Number(response.headers.get("content-length") ?? 0);
  if (length > maxZipBytes) {
    throw new DownloadError("ERR_DOWNLOAD_ZIP", `${what} is larger than ${maxZipBytes} bytes.`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > maxZipBytes) {
    throw new DownloadError("ERR_DOWNLOAD_ZIP", `${what} is larger than ${maxZipBytes} bytes.`);
  }
  return bytes;
}

/** `manifest.json` and `signature` from the version's zip, refusing anything oversized. */
function unzip(zip: Uint8Array): { manifestText: string; signature: Uint8Array } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (file) =>
        (file.name === "manifest.json" || file.name === "signature") &&
        file.originalSize <= maxZipBytes,
    });
  } catch (error) {
    throw new DownloadError(
      "ERR_DOWNLOAD_ZIP",
      `The version's zip cannot be read: ${(error as Error).message}.`,
    );
  }
  const manifest = files["manifest.json"];
  const signature = files.signature;
  if (!manifest || !signature) {
    throw new DownloadError(
      "ERR_DOWNLOAD_ZIP",
      "The version's zip must hold manifest.json and signature.",
    );
  }
  return { manifestText: new TextDecoder().decode(manifest), signature };
}

/** Every asset at its path and nothing else, as Apple's `dist_package_tool validate` wants. */
async function checkLayout(out: string, manifest: PackageManifest): Promise<void> {
  const expected = new Set([
    "manifest.json",
    "signature",
    ...[...manifest.variants, ...manifest.deltas].map((asset) => asset.assetPath),
  ]);
  const found = (await readdir(out, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(out, join(entry.parentPath, entry.name)).split(sep).join("/"));
  const extra = found.filter((path) => !expected.has(path));
  const missing = [...expected].filter((path) => !found.includes(path));
  if (extra.length > 0 || missing.length > 0) {
    throw new DownloadError(
      "ERR_LAYOUT",
      [
        extra.length > 0 ? `files that do not belong to the package: ${extra.join(", ")}` : "",
        missing.length > 0 ? `missing: ${missing.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; ") + `. The folder must hold exactly the package before it is served.`,
    );
  }
}

async function writeAtomically(path: string, data: string | Uint8Array, mode = 0o644) {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await writeFile(temporary, data, { mode });
  await rename(temporary, path);
}

function isInside(folder: string, path: string): boolean {
  const inside = relative(resolve(folder), resolve(path));
  return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
}

async function inParallel<T, R>(
  limit: number,
  items: readonly T[],
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    // After a failure, no new item starts; those under way finish, so none is left half-written.
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
  return results;
}
