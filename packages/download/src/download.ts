import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import {
  getAlternativeDistributionPackageDelta,
  getAlternativeDistributionPackageVariant,
  getAlternativeDistributionPackageVersion,
  parsePackageManifest,
} from "@asc-kit/core";
import type { AppStoreConnectClient, PackageManifest } from "@asc-kit/core";
import { unzipSync } from "fflate";
import { limitsOf } from "./deadlines.js";
import type { Deadlines } from "./deadlines.js";
import { DownloadError, isTransient } from "./errors.js";
import { backOff, openFresh, place, refuseLinkedFolders, retryableStatuses } from "./transfer.js";
import { layoutEntries } from "./validate.js";
import type { OnProgress, Resource } from "./transfer.js";
import { downloadTransport } from "./transport.js";
import type { Download, FetchUrl, OpenDownload } from "./transport.js";

export interface DownloadOptions {
  /** The folder to lay the package out in: what the distribution domain serves. */
  out: string;
  /**
   * Where the key blobs go (mode 0600). Default `<out>.key-blobs.json`, beside the folder and
   * never in it: the folder is served to the world, the key blobs are secrets.
   */
  keyBlobs?: string;
  /**
   * A fetch for the download links (the zip, variants and deltas), for tests, proxies or other
   * transports. Default: Node's `http`/`https`, which streams to disk at the speed of curl.
   * API calls go through `client`, whatever this is.
   */
  fetch?: FetchUrl;
  /** Downloads at once. Default 2. */
  concurrency?: number;
  /** Attempts per asset when a transfer breaks off; each resumes where it stopped. Default 4. */
  attempts?: number;
  /** Called as bytes arrive. */
  onProgress?: OnProgress;
  /**
   * How long each request may take: its head at most `headMs` (default 30 s), its body at least
   * `minBytesPerSecond` (default 16 KiB/s) over each `rateWindowMs` (default 20 s). A request
   * past either is cut off with `ERR_DOWNLOAD_TIMEOUT` and asked again, up to `attempts`.
   */
  deadlines?: Deadlines;
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
  /** The package the version belongs to, when App Store Connect names it. */
  packageId?: string;
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
  const openDownload = downloadTransport(options.fetch, limitsOf(options.deadlines));
  const keyBlobs = options.keyBlobs ?? defaultKeyBlobs(options.out);
  if (isInside(options.out, keyBlobs)) {
    throw new TypeError("keyBlobs must be outside the served folder: the key blobs are secrets.");
  }
  // Before anything is written: a link there would take the package elsewhere.
  for (const folder of ["variant", "delta"]) await refuseLinkedFolders(options.out, folder);
  const contents = await getAlternativeDistributionPackageVersion(client, versionId);
  if (contents.error) throw contents.error;
  const { version, variants, deltas } = contents.data;

  const zip = await fetchWhole(
    openDownload,
    options.attempts ?? 4,
    version.attributes?.url,
    "the version's zip",
    async () => {
      const again = await getAlternativeDistributionPackageVersion(client, versionId);
      if (again.error) throw again.error;
      return again.data.version.attributes?.url;
    },
  );
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
    const placed = await place(asset, resource, refresh, openDownload, options);
    return { kind, publicId: asset.publicId, assetPath: asset.assetPath, ...placed };
  });
  await writeAtomically(keyBlobs, `${JSON.stringify(blobs, null, 2)}\n`, 0o600);
  await checkLayout(options.out, manifest);
  return {
    out: options.out,
    keyBlobs,
    appleItemId: manifest.appleItemId,
    bundleId: manifest.bundleId,
    ...packageOf(version),
    assets,
  };
}

/** The version's package, when App Store Connect names it in the version's relationships. */
function packageOf(version: {
  relationships?: { alternativeDistributionPackage?: { data?: { id?: string } } };
}): { packageId?: string } {
  const id = version.relationships?.alternativeDistributionPackage?.data?.id;
  return typeof id === "string" ? { packageId: id } : {};
}

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

/** A small file whole: the version's zip. Asked again after a passing failure, from the start. */
async function fetchWhole(
  openDownload: OpenDownload,
  attempts: number,
  url: string | undefined,
  what: string,
  refresh: () => Promise<string | undefined>,
): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= attempts;
    let download: Download;
    try {
      ({ download, url } = await openFresh(openDownload, url, 0, refresh));
    } catch (error) {
      if (last || !isTransient(error)) throw error;
      await backOff(attempt);
      continue;
    }
    if (retryableStatuses.has(download.status) && !last) {
      download.cancel();
      await backOff(attempt);
      continue;
    }
    const whole = await readWhole(download, what);
    if (whole instanceof Uint8Array) return whole;
    if (last) throw whole;
    await backOff(attempt);
  }
}

/** The body, or the error of a body that broke off (worth another attempt). */
async function readWhole(download: Download, what: string): Promise<Uint8Array | DownloadError> {
  const tooLarge = () =>
    new DownloadError("ERR_DOWNLOAD_ZIP", `${what} is larger than ${maxZipBytes} bytes.`);
  if (download.status !== 200) {
    download.cancel();
    throw new DownloadError(
      "ERR_DOWNLOAD_HTTP",
      `Downloading ${what} answered ${download.status}.`,
    );
  }
  if ((download.length ?? 0) > maxZipBytes) {
    download.cancel();
    throw tooLarge();
  }
  const pieces: Uint8Array[] = [];
  let total = 0;
  await download.read((piece) => {
    total += piece.byteLength;
    if (total > maxZipBytes) throw tooLarge();
    // A copy: the transport reuses a piece's memory for the next.
    pieces.push(piece.slice());
  });
  const broke = download.broke();
  if (broke !== undefined) {
    return new DownloadError(broke.code, `Downloading ${what} broke off: ${broke.message}`, {
      cause: broke,
    });
  }
  return Buffer.concat(pieces, total);
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
  const { extra, missing, links, collisions } = await layoutEntries(out, manifest);
  const unwanted = [...extra, ...links];
  if (unwanted.length > 0 || missing.length > 0 || collisions.length > 0) {
    throw new DownloadError(
      "ERR_LAYOUT",
      [
        unwanted.length > 0
          ? `files that do not belong to the package: ${unwanted.join(", ")}`
          : "",
        missing.length > 0 ? `missing: ${missing.join(", ")}` : "",
        collisions.length > 0
          ? `paths that differ only in case: ${collisions.map((paths) => paths.join(" and ")).join("; ")}`
          : "",
      ]
        .filter(Boolean)
        .join("; ") + `. The folder must hold exactly the package before it is served.`,
    );
  }
}

async function writeAtomically(path: string, data: string | Uint8Array, mode = 0o644) {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  // Create-exclusive: never through a link someone put at that name.
  await writeFile(temporary, data, { mode, flag: "wx" });
  await rename(temporary, path);
}

/**
 * `<out>.key-blobs.json`, beside the folder; for a folder written as `.`, `..` or `dir/.`, beside
 * the folder it names, not inside it.
 */
function defaultKeyBlobs(out: string): string {
  const beside = `${out.replace(/[/\\]+$/, "")}.key-blobs.json`;
  return isInside(out, beside) ? `${resolve(out)}.key-blobs.json` : beside;
}

/** Whether `path` is `folder` or within it, judged by whole path segments. */
function isInside(folder: string, path: string): boolean {
  const inside = relative(resolve(folder), resolve(path));
  if (isAbsolute(inside)) return false;
  return inside === "" || inside.split(/[/\\]/)[0] !== "..";
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
