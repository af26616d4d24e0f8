import { lstat, readFile, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { PackageError, parsePackageManifest } from "@asc-kit/core";
import type { PackageManifest } from "@asc-kit/core";
import { verifyFile } from "./chunks.js";

/** One thing wrong with a layout; `code` is stable. */
export interface LayoutFinding {
  code:
    | "ERR_MANIFEST_MISSING"
    | "ERR_MANIFEST_INVALID"
    | "ERR_SIGNATURE_MISSING"
    | "ERR_ASSET_MISSING"
    | "ERR_ASSET_SIZE"
    | "ERR_CHUNK_DIGEST"
    | "ERR_EXTRA_FILE"
    | "ERR_LINK"
    | "ERR_CASE_COLLISION";
  /** The path in the layout it is about, with `/` between names. */
  path?: string;
  message: string;
}

/** What {@link validatePackageLayout} found: `ok` when there is nothing to find. */
export interface LayoutReport {
  ok: boolean;
  appleItemId?: string;
  appleVersionId?: string;
  bundleId?: string;
  /** Assets verified whole, and their bytes. */
  assets: number;
  bytes: number;
  findings: LayoutFinding[];
}

/** The layout's entries against the manifest's: what is extra, missing, a link, or collides. */
export async function layoutEntries(folder: string, manifest: PackageManifest) {
  const expected = new Set([
    "manifest.json",
    "signature",
    ...[...manifest.variants, ...manifest.deltas].map((asset) => asset.assetPath),
  ]);
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const pathOf = (entry: (typeof entries)[number]) =>
    relative(folder, join(entry.parentPath, entry.name)).split(sep).join("/");
  const found = new Set(entries.filter((entry) => entry.isFile()).map(pathOf));
  // A link serves whatever it points at: never part of a package.
  const links = entries.filter((entry) => entry.isSymbolicLink()).map(pathOf);
  const byCase = new Map<string, Set<string>>();
  for (const path of [...expected, ...found]) {
    const key = path.toLowerCase();
    byCase.set(key, (byCase.get(key) ?? new Set()).add(path));
  }
  return {
    extra: [...found].filter((path) => !expected.has(path)),
    missing: [...expected].filter((path) => !found.has(path)),
    links,
    // Two paths that differ only in case are one file on macOS's and Windows's file systems.
    collisions: [...byCase.values()].filter((paths) => paths.size > 1).map((paths) => [...paths]),
  };
}

/**
 * Apple's `dist_package_tool validate`, which runs on macOS only, on any platform: the folder
 * holds exactly the manifest's files (an extra `.DS_Store` and every missing asset named), the
 * manifest is valid, the signature is there, every asset's every chunk matches its digest, no
 * symbolic link, and no two paths that differ only in case. Resolves with every finding; never
 * throws for what it finds.
 *
 * @example
 * ```ts
 * import { validatePackageLayout } from "@asc-kit/download";
 *
 * const report = await validatePackageLayout("./site/package");
 * for (const finding of report.findings) console.error(finding.code, finding.message);
 * ```
 */
export async function validatePackageLayout(folder: string): Promise<LayoutReport> {
  const report: LayoutReport = { ok: false, assets: 0, bytes: 0, findings: [] };
  const find = (finding: LayoutFinding) => void report.findings.push(finding);
  const manifest = await readManifest(folder, find);
  if (!manifest) return report;
  report.appleItemId = manifest.appleItemId;
  if (typeof manifest.raw.appleVersionId === "string")
    report.appleVersionId = manifest.raw.appleVersionId;
  report.bundleId = manifest.bundleId;
  const entries = await layoutEntries(folder, manifest);
  for (const path of entries.extra)
    find({
      code: "ERR_EXTRA_FILE",
      path,
      message: `${path} is not the package's: remove it (Apple's check fails on it).`,
    });
  for (const path of entries.links)
    find({
      code: "ERR_LINK",
      path,
      message: `${path} is a symbolic link: a served folder holds files only.`,
    });
  for (const paths of entries.collisions) {
    find({
      code: "ERR_CASE_COLLISION",
      path: paths[0]!,
      message: `${paths.join(" and ")} differ only in case: one file on macOS and Windows.`,
    });
  }
  const signature = await lstat(join(folder, "signature")).catch(() => undefined);
  if (!signature?.isFile() || signature.size === 0) {
    find({
      code: "ERR_SIGNATURE_MISSING",
      path: "signature",
      message: "signature is missing or empty: download the version again.",
    });
  }
  for (const asset of [...manifest.variants, ...manifest.deltas]) {
    if (entries.missing.includes(asset.assetPath)) {
      find({
        code: "ERR_ASSET_MISSING",
        path: asset.assetPath,
        message: `${asset.assetPath} is missing.`,
      });
      continue;
    }
    const problem = await checkedAsset(join(folder, ...asset.assetPath.split("/")), asset);
    if (problem) find({ ...problem, path: asset.assetPath });
    else {
      report.assets++;
      report.bytes += asset.compressedSize;
    }
  }
  report.ok = report.findings.length === 0;
  return report;
}

async function readManifest(folder: string, find: (finding: LayoutFinding) => void) {
  let text: string;
  try {
    text = await readFile(join(folder, "manifest.json"), "utf8");
  } catch {
    find({
      code: "ERR_MANIFEST_MISSING",
      path: "manifest.json",
      message: "manifest.json is missing: this is not a package layout.",
    });
    return undefined;
  }
  try {
    return parsePackageManifest(text);
  } catch (error) {
    find({
      code: "ERR_MANIFEST_INVALID",
      path: "manifest.json",
      message: (error as Error).message,
    });
    return undefined;
  }
}

/** Every chunk of the file against the manifest; the finding when one does not match. */
async function checkedAsset(
  path: string,
  asset: PackageManifest["variants"][number],
): Promise<Omit<LayoutFinding, "path"> | undefined> {
  const { error } = await verifyFile(path, asset);
  if (error === undefined) return undefined;
  const digest = error instanceof PackageError && error.code === "ERR_CHUNK_DIGEST";
  return {
    code: digest ? "ERR_CHUNK_DIGEST" : "ERR_ASSET_SIZE",
    message: (error as Error).message,
  };
}
