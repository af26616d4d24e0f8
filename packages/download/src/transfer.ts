import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type {
  AlternativeDistributionPackageDelta,
  AlternativeDistributionPackageVariant,
  ManifestAsset,
} from "@asc-kit/core";
import { ChunkVerifier, verifiedPrefix } from "./chunks.js";
import { DownloadError } from "./errors.js";
import type { Download, OpenDownload } from "./transport.js";

export type Resource = AlternativeDistributionPackageVariant | AlternativeDistributionPackageDelta;
export type OnProgress = (progress: { assetPath: string; bytes: number; total: number }) => void;

/** Answers worth another attempt: the CDN's passing trouble, not a refusal. */
const retryableStatuses = new Set([429, 500, 502, 503, 504]);

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
  if ((await sizeOf(target)) === asset.compressedSize) {
    if ((await verifiedPrefix(target, asset)) === asset.compressedSize) {
      return { bytes: asset.compressedSize, downloaded: false };
    }
  }
  await rm(target, { force: true });
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.part`;
  let kept = (await sizeOf(partial)) > 0 ? await verifiedPrefix(partial, asset) : 0;
  let resumedFrom = kept > 0 ? kept : undefined;
  let url = resource.attributes?.url;
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; kept < asset.compressedSize || asset.compressedSize === 0; attempt++) {
    const fetched = await openFresh(
      openDownload,
      url,
      kept,
      async () => (await refresh()).attributes?.url,
    );
    url = fetched.url;
    const response = fetched.download;
    if (retryableStatuses.has(response.status) && attempt < attempts) {
      // A CDN's passing trouble: wait a little longer each time, then ask again.
      response.body.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
      continue;
    }
    if (response.status !== 200 && response.status !== 206) {
      response.body.destroy();
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
  download.body.destroy();
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
 * Streams the body onto the partial file from byte `from`, each piece verified as it passes
 * and written while the next arrive (Node's file stream gathers pieces into large writes).
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
  let received = from;
  let endedShort: unknown;
  const verify = new Transform({
    transform(piece: Buffer, _encoding, done) {
      try {
        verifier.update(piece);
      } catch (error) {
        return done(error as Error);
      }
      received += piece.byteLength;
      onProgress?.({ assetPath: asset.assetPath, bytes: received, total: asset.compressedSize });
      done(null, piece);
    },
    flush(done) {
      try {
        verifier.finish();
      } catch (error) {
        // Fewer bytes than the manifest says: the body was cut off. Every piece before the cut
        // is written when the pipeline ends, so the next attempt resumes after them.
        if ((error as { code?: string }).code !== "ERR_ASSET_SIZE") return done(error as Error);
        endedShort = error;
      }
      done();
    },
  });
  const file = await open(partial, from > 0 ? "r+" : "w");
  await file.truncate(from).finally(() => file.close());
  try {
    await pipeline(
      response.body,
      verify,
      createWriteStream(partial, { flags: "r+", start: from, highWaterMark: 1024 * 1024 }),
    );
  } catch (error) {
    // Data that does not match the manifest, or a file that cannot be written.
    return { kind: "corrupt", error };
  }
  const broke = response.broke() ?? endedShort;
  return broke === undefined
    ? { kind: "complete" }
    : { kind: "broke-off", error: broke, verifiedBytes: verifier.verifiedBytes };
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (info) => info.size,
    () => -1,
  );
}
