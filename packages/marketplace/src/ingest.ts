import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { AppStoreConnectClient } from "@asc-kit/core";
import { PackageError } from "@asc-kit/core";
import { versionRecordOf } from "@asc-kit/distribution";
import type { DistributionStore, SqlExecutor } from "@asc-kit/distribution";
import { DownloadError, downloadPackageVersion } from "@asc-kit/download";
import type { DownloadOptions, DownloadedAsset } from "@asc-kit/download";
import { applyAvailability } from "./apply.js";
import { markChanged } from "./schema.js";
import { checkedPath } from "./storage.js";
import type { PackageStorage } from "./storage.js";

/** What an ingest needs: the database, the store it registers with, the API and the storage. */
export interface IngestContext {
  executor: SqlExecutor;
  store: DistributionStore;
  client: AppStoreConnectClient;
  storage: PackageStorage;
  /** Passed to the download: a fetch for the links, deadlines. */
  download?: Pick<DownloadOptions, "fetch" | "deadlines" | "concurrency">;
}

/** A failure no retry mends: the version is failed at once, with the reason. */
export class PermanentFailure extends Error {
  override readonly name = "PermanentFailure";
}

interface VersionRow extends Record<string, unknown> {
  state: string;
  manifest: string | null;
}

/**
 * Downloads, verifies, stores and registers one package version, once: a version done is
 * skipped; one stored by an attempt that stopped short is registered without downloading
 * again; a download that broke off resumes from its verified part in the storage's work
 * folder. The manifest and key blobs are recorded before the layout is moved in, so that
 * whatever attempt comes next finds what it needs. The version is registered with the
 * availability its app and package have at that moment, then availability is applied.
 */
export async function ingestVersion(
  context: IngestContext,
  versionId: string,
  appId: string,
): Promise<IngestOutcome> {
  const { executor, storage } = context;
  if (!/^\d{1,20}$/.test(appId) || !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(versionId)) {
    throw new PermanentFailure(
      "The notification's app id is not an Apple ID, or its version id not a plain name: nothing downloaded.",
    );
  }
  const [row] = await executor.query<VersionRow>(
    `UPDATE asc_kit_mp_versions SET state = 'running', attempts = attempts + 1,
       updated_at = now() WHERE version_id = $1 AND state <> 'done'
     RETURNING state, manifest`,
    [versionId],
  );
  if (!row) return { skipped: true, downloadedBytes: 0, resumedBytes: 0 };
  const path = checkedPath(`${appId}/${versionId}`);
  let manifest = row.manifest;
  const outcome = { skipped: false, downloadedBytes: 0, resumedBytes: 0 };
  if (manifest === null || !(await storage.has(path))) {
    let assets: DownloadedAsset[];
    ({ manifest, assets } = await download(context, versionId, appId, path));
    for (const asset of assets) {
      if (asset.downloaded) outcome.downloadedBytes += asset.bytes - (asset.resumedFrom ?? 0);
      outcome.resumedBytes += asset.resumedFrom ?? 0;
    }
  }
  const record = versionRecordOf(manifest, storage.urlOf(path));
  if (record.appleItemId !== appId) {
    throw new PermanentFailure(
      `The package's manifest is of app ${record.appleItemId}, the notification of app ${appId}: not served.`,
    );
  }
  await context.store.registerVersion(record, {
    available: await availableNow(executor, appId, versionId),
  });
  await executor.transaction(async (tx) => {
    await tx.query(
      `UPDATE asc_kit_mp_versions SET state = 'done', apple_version_id = $2, path = $3,
         last_error = NULL, updated_at = now() WHERE version_id = $1`,
      [versionId, record.appleVersionId, path],
    );
    await markChanged(tx, appId);
  });
  await applyAvailability(executor, context.store, appId);
  return outcome;
}

/** What an ingest did: nothing (the version was done), or how much it downloaded. */
export interface IngestOutcome {
  skipped: boolean;
  /** Bytes of variants and deltas fetched by this attempt. */
  downloadedBytes: number;
  /** Bytes an earlier attempt had verified, which this one kept. */
  resumedBytes: number;
}

/** Downloads into the work folder, records the manifest and key blobs, moves the layout in. */
async function download(
  context: IngestContext,
  versionId: string,
  appId: string,
  path: string,
): Promise<{ manifest: string; assets: DownloadedAsset[] }> {
  const folder = join(context.storage.workFolder, `${appId}-${versionId}`);
  const keyBlobs = `${folder}.key-blobs.json`;
  let packageId: string | undefined;
  let assets: DownloadedAsset[];
  try {
    ({ packageId, assets } = await downloadPackageVersion(context.client, versionId, {
      ...context.download,
      out: folder,
      keyBlobs,
    }));
  } catch (error) {
    if (isPermanent(error)) throw new PermanentFailure(messageOf(error), { cause: error });
    throw error;
  }
  const manifest = await readFile(join(folder, "manifest.json"), "utf8");
  const blobs = await readFile(keyBlobs, "utf8");
  await context.executor.query(
    `UPDATE asc_kit_mp_versions SET manifest = $2, key_blobs = $3::jsonb,
       package_id = COALESCE(package_id, $4), updated_at = now()
     WHERE version_id = $1`,
    [versionId, manifest, blobs, packageId ?? null],
  );
  await context.storage.put(path, folder);
  await rm(keyBlobs, { force: true });
  return { manifest, assets };
}

/** Whether the app, and the version's package when known, may be served now. */
async function availableNow(
  executor: SqlExecutor,
  appId: string,
  versionId: string,
): Promise<boolean> {
  const rows = await executor.query(
    `SELECT 1 FROM asc_kit_mp_availability a
     JOIN asc_kit_mp_versions v ON v.version_id = $2
     WHERE a.app_id = $1 AND (a.scope = '' OR a.scope = v.package_id) AND NOT a.available`,
    [appId, versionId],
  );
  return rows.length === 0;
}

/**
 * Failures that another attempt would meet again: App Store Connect refusing the request (a
 * 4xx other than 408 and 429: no such version, no access), a package that is not valid, a
 * layout or link refused. Connection failures, deadlines, 5xx, 429, expired links, and digests
 * or sizes that did not match (a corrupted or cut transfer) are retried.
 */
function isPermanent(error: unknown): boolean {
  if (error instanceof DownloadError) {
    return ["ERR_DOWNLOAD_ZIP", "ERR_LAYOUT", "ERR_DOWNLOAD_URL"].includes(error.code);
  }
  if (error instanceof PackageError) return error.code.startsWith("ERR_MANIFEST");
  const status = (error as { status?: unknown } | null)?.status;
  return (
    typeof status === "number" && status >= 400 && status < 500 && ![408, 429].includes(status)
  );
}

export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
