import { constants, writeSync } from "node:fs";
import { lstat, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type {
  AlternativeDistributionPackageDelta,
  AlternativeDistributionPackageVariant,
  ManifestAsset,
} from "@asc-kit/core";
import { ChunkVerifier, verifiedPrefix } from "./chunks.js";
import { DownloadError, isTransient } from "./errors.js";
import type { Download, OpenDownload } from "./transport.js";

export type Resource = AlternativeDistributionPackageVariant | AlternativeDistributionPackageDelta;
export type OnProgress = (progress: { assetPath: string; bytes: number; total: number }) => void;

/** Answers worth another attempt: the CDN's passing trouble, not a refusal. */
export const retryableStatuses: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Waits a little longer after each failed attempt. */
export function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
}

/**
 * One asset at its path: kept if a verified copy is there, else downloaded into `<path>.part`
 * (resuming from what a broken-off transfer or an earlier run left, once verified) and renamed
 * into place once every chunk has matched.
 */
export async function place(
  asset: ManifestAsset,
  resource: Resource,
  refresh: () => Promise<Resource>,
  openDownload: OpenDownload,
  options: { out: string; attempts?: number; onProgress?: OnProgress },
): Promise<{ bytes: number; downloaded: boolean; resumedFrom?: number }> {
  const target = join(options.out, ...asset.assetPath.split("/"));
  await refuseLinkedFolders(options.out, asset.assetPath.split("/").slice(0, -1).join("/"));
  if ((await sizeOf(target)) === asset.compressedSize) {
    if ((await verifiedPrefix(target, asset)) === asset.compressedSize) {
      return { bytes: asset.compressedSize, downloaded: false };
    }
  }
  // A link at either name is removed, never followed: only files of our own are kept.
  await rm(target, { force: true });
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.part`;
  if ((await sizeOf(partial)) < 0) await rm(partial, { force: true });
  let kept = (await sizeOf(partial)) > 0 ? await verifiedPrefix(partial, asset) : 0;
  let resumedFrom = kept > 0 ? kept : undefined;
  let url = resource.attributes?.url;
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; kept < asset.compressedSize || asset.compressedSize === 0; attempt++) {
    let fetched: Awaited<ReturnType<typeof openFresh>>;
    try {
      fetched = await openFresh(
        openDownload,
        url,
        kept,
        async () => (await refresh()).attributes?.url,
      );
    } catch (error) {
      // No answer at all (refused, reset, a head too slow): like a 503, asked again.
      if (!isTransient(error) || attempt >= attempts) throw error;
      await backOff(attempt);
      continue;
    }
    url = fetched.url;
    const response = fetched.download;
    if (retryableStatuses.has(response.status) && attempt < attempts) {
      // A CDN's passing trouble: wait a little longer each time, then ask again.
      response.cancel();
      await backOff(attempt);
      continue;
    }
    if (response.status !== 200 && response.status !== 206) {
      response.cancel();
      throw new DownloadError(
        "ERR_DOWNLOAD_HTTP",
        `${asset.assetPath}: the download answered ${response.status}.`,
      );
    }
    // A server that ignores the range sends everything again: start over.
    const from = response.status === 206 ? kept : 0;
    const transfer = await append(partial, from, response, asset, options.onProgress);
    if (transfer.kind === "complete") break;
    if (transfer.kind === "corrupt") {
      await rm(partial, { force: true });
      throw transfer.error;
    }
    // It broke off: the chunks verified before the break are kept for the next attempt.
    if (attempt >= attempts) throw transfer.error;
    kept = transfer.verifiedBytes;
    if (kept > 0) resumedFrom ??= kept;
  }
  await rename(partial, target);
  return {
    bytes: asset.compressedSize,
    downloaded: true,
    ...(resumedFrom === undefined ? {} : { resumedFrom }),
  };
}

/** Opens a download link; one that has expired (403 or 410) is refreshed once and opened again. */
export async function openFresh(
  openDownload: OpenDownload,
  url: string | undefined,
  from: number,
  refresh: () => Promise<string | undefined>,
): Promise<{ download: Download; url: string | undefined }> {
  const download = await openUrl(openDownload, url, from);
  if (download.status !== 403 && download.status !== 410) return { download, url };
  download.cancel();
  const fresh = await refresh();
  return { download: await openUrl(openDownload, fresh, from), url: fresh };
}

function openUrl(openDownload: OpenDownload, url: string | undefined, from: number) {
  if (!url) throw new DownloadError("ERR_DOWNLOAD_HTTP", "App Store Connect gave no download URL.");
  return openDownload(url, from);
}

/** How a transfer ended: every byte verified, a connection that broke off, or bad data. */
type Transfer =
  | { kind: "complete" }
  | { kind: "broke-off"; error: unknown; verifiedBytes: number }
  | { kind: "corrupt"; error: unknown };

/**
 * Writes the body onto the partial file from byte `from`, each piece verified before it is
 * written. Writes are synchronous: a piece lives in the transport's read buffer only until the
 * next read, and a write into the page cache costs less than copying it to write later (an
 * asynchronous write of every piece held the transfer to 0.6 of curl's speed).
 * The partial file may hold bytes of a chunk not yet verified: it is renamed into place only
 * once all are, and a later run checks what it finds before keeping any of it.
 */
async function append(
  partial: string,
  from: number,
  response: Download,
  asset: ManifestAsset,
  onProgress: OnProgress | undefined,
): Promise<Transfer> {
  const chunkSize = asset.hashes[0]!.chunkSize;
  const verifier = new ChunkVerifier(asset, from / chunkSize);
  let position = from;
  // O_NOFOLLOW: a link put at the partial file's name is refused, never written through.
  const flags =
    from > 0
      ? constants.O_RDWR | constants.O_NOFOLLOW
      : constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  const file = await open(partial, flags, 0o644);
  try {
    // Only past verified bytes: on ext4, truncating to zero makes the close wait for the
    // whole file to be flushed to disk (some 70 ms for 256 MB), and "w" left it empty anyway.
    if (from > 0) await file.truncate(from);
    await response.read((piece) => {
      verifier.update(piece);
      writeAll(file.fd, piece, position);
      position += piece.byteLength;
      onProgress?.({ assetPath: asset.assetPath, bytes: position, total: asset.compressedSize });
    });
  } catch (error) {
    // Data that does not match the manifest, or a file that cannot be written.
    return { kind: "corrupt", error };
  } finally {
    await file.close();
  }
  let endedShort: unknown;
  try {
    verifier.finish();
  } catch (error) {
    // Fewer bytes than the manifest says: the body was cut off. Every piece before the cut is
    // written, so the next attempt resumes after them.
    if ((error as { code?: string }).code !== "ERR_ASSET_SIZE") return { kind: "corrupt", error };
    endedShort = error;
  }
  const broke = response.broke() ?? endedShort;
  return broke === undefined
    ? { kind: "complete" }
    : { kind: "broke-off", error: broke, verifiedBytes: verifier.verifiedBytes };
}

function writeAll(fd: number, piece: Uint8Array, position: number) {
  for (let written = 0; written < piece.byteLength;) {
    written += writeSync(fd, piece, written, piece.byteLength - written, position + written);
  }
}

/** The size of the regular file at `path`; -1 for anything else (none, a link, a folder). */
async function sizeOf(path: string): Promise<number> {
  return lstat(path).then(
    (info) => (info.isFile() ? info.size : -1),
    () => -1,
  );
}

/**
 * Refuses to write in `folder` (a path inside `out`, such as `variant`) when it, or a folder on
 * the way to it, is a symbolic link: what is written would land wherever it points.
 */
export async function refuseLinkedFolders(out: string, folder: string): Promise<void> {
  const folders = folder.split("/").filter(Boolean);
  for (let depth = 1; depth <= folders.length; depth++) {
    const path = join(out, ...folders.slice(0, depth));
    const info = await lstat(path).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      throw new DownloadError(
        "ERR_LAYOUT",
        `${path} is a symbolic link: remove it, so that the package is written inside ${out} and nowhere else.`,
      );
    }
  }
}
