import { createReadStream } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { parsePackageManifest } from "@asc-kit/core";
import { versionRecordOf } from "./layout.js";
import type { DistributionStore, VersionRecord } from "./store.js";

/** A package layout found on disk: where it is, what it holds, and the record it registers. */
export interface Layout {
  /** Its folder, relative to the root, with `/` between names (`6476788026/1.0`). */
  path: string;
  record: VersionRecord;
  /** Every file served, by its path under the layout (`manifest.json`, `variant/….ipa`). */
  files: Map<string, string>;
}

/** Folders looked into below the root, at most: a layout per app and version is two deep. */
const maxDepth = 4;
/** Names a layout may not have: the server's own paths. */
const reserved = new Set([".well-known", "marketplace-kit"]);

/**
 * Finds every package layout under `root` (a folder holding `manifest.json`, as
 * `asc-kit packages download --out` writes them), and checks each: its manifest valid, its
 * signature and every asset present at the manifest's size. A layout's URL is `baseUrl` and its
 * path under the root. Resolves with the layouts and, for each folder refused, why.
 *
 * @example
 * ```ts
 * import { findLayouts } from "@asc-kit/distribution/node";
 *
 * const { layouts, refused } = await findLayouts("./site", "https://apps.example.com/");
 * ```
 */
export async function findLayouts(
  root: string,
  baseUrl: string,
): Promise<{ layouts: Layout[]; refused: Array<{ path: string; reason: string }> }> {
  const layouts: Layout[] = [];
  const refused: Array<{ path: string; reason: string }> = [];
  for (const folder of await manifestFolders(root, 0)) {
    const path = relative(root, folder).split(sep).join("/");
    try {
      if (reserved.has(path.split("/")[0]!))
        throw new Error("its name is one of the server's own paths");
      layouts.push(
        await readLayout(folder, path, new URL(path === "" ? "" : `${path}/`, baseUrl).href),
      );
    } catch (error) {
      refused.push({ path: path || ".", reason: (error as Error).message });
    }
  }
  return { layouts, refused };
}

async function manifestFolders(folder: string, depth: number): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  if (entries.some((entry) => entry.isFile() && entry.name === "manifest.json")) return [folder];
  if (depth >= maxDepth) return [];
  const found: string[] = [];
  for (const entry of entries) {
    // Links are not followed: only what is inside the root is served.
    if (entry.isDirectory() && !entry.name.startsWith(".")) {
      found.push(...(await manifestFolders(join(folder, entry.name), depth + 1)));
    }
  }
  return found;
}

async function readLayout(folder: string, path: string, packageUrl: string): Promise<Layout> {
  const manifestText = await readFile(join(folder, "manifest.json"), "utf8");
  const record = versionRecordOf(manifestText, packageUrl);
  const manifest = parsePackageManifest(manifestText);
  const files = new Map<string, string>([
    ["manifest.json", join(folder, "manifest.json")],
    ["signature", join(folder, "signature")],
  ]);
  const sizes = new Map<string, number>();
  for (const asset of [...manifest.variants, ...manifest.deltas]) {
    files.set(asset.assetPath, join(folder, ...asset.assetPath.split("/")));
    sizes.set(asset.assetPath, asset.compressedSize);
  }
  for (const [name, file] of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`${name} is missing`);
    const size = sizes.get(name);
    if (size !== undefined && info.size !== size) {
      throw new Error(`${name} is ${info.size} bytes where the manifest says ${size}`);
    }
  }
  return { path, record, files };
}

/** Registers every layout's version with the store: what restore and updates then hand out. */
export async function registerLayouts(
  store: DistributionStore,
  layouts: readonly Layout[],
): Promise<void> {
  for (const layout of layouts) await store.registerVersion(layout.record);
}

/**
 * A handler for the layouts' files, and nothing else: `GET` and `HEAD` of a path a layout
 * holds (its manifest, signature and assets), with `Content-Length`, `Accept-Ranges`, a strong
 * `ETag` (size and time of change), `304` for `If-None-Match`, `206` for one byte range and `416`
 * for a range past the end. Any other path resolves `undefined`, for the next handler: there is
 * no listing, and no path outside the layouts' own files can be asked for.
 */
export function layoutFileHandler(
  layouts: readonly Layout[],
): (request: Request) => Promise<Response | undefined> {
  const byPath = new Map<string, string>();
  for (const layout of layouts) {
    // Under the path of the layout's URL: a public URL with a path of its own is served too.
    const base = new URL(layout.record.packageUrl).pathname;
    for (const [name, file] of layout.files) byPath.set(`${base}${name}`, file);
  }
  return async (request) => {
    const path = decodedPath(request);
    if (path === undefined) return undefined;
    const file = byPath.get(path);
    if (!file) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    return serveFile(request, file, path);
  };
}

/**
 * A handler for the files of the versions the store holds, as a marketplace's pipeline lays
 * them out under `root`: a path under `baseUrl` is served when it is the manifest, signature,
 * a variant or a delta of a registered version that may be handed out, whose `packageUrl` it is
 * under (`<baseUrl><appleItemId>/<folder>/…`). Versions registered while it runs are served at
 * once (within the store's 5-second cache); withdrawn ones are not. Anything else resolves
 * `undefined`, for the next handler.
 *
 * @example
 * ```ts
 * import { registeredFileHandler } from "@asc-kit/distribution/node";
 * import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
 *
 * const store = await openEmbeddedStore("./distribution-data");
 * const files = registeredFileHandler(store, "./packages", "https://apps.example.com/packages/");
 * ```
 */
export function registeredFileHandler(
  store: DistributionStore,
  root: string,
  baseUrl: string,
): (request: Request) => Promise<Response | undefined> {
  const basePath = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).pathname;
  return async (request) => {
    const path = decodedPath(request);
    if (path === undefined) return undefined;
    if (!path.startsWith(basePath)) return undefined;
    const segments = path.slice(basePath.length).split("/");
    if (segments.length < 3 || segments.some((segment) => segment === "" || segment[0] === ".")) {
      return undefined;
    }
    const versions = await store.versionsOf([segments[0]!]);
    const version = versions.find(
      (candidate) => candidate.available && path.startsWith(new URL(candidate.packageUrl).pathname),
    );
    const name = version && path.slice(new URL(version.packageUrl).pathname.length);
    if (!name || !/^(manifest\.json|signature|(variant|delta)\/[^/]+\.ipa)$/.test(name)) {
      return undefined;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    return serveFile(request, join(root, ...segments), path);
  };
}

/** The request's path, decoded; `undefined` for one that does not decode. */
function decodedPath(request: Request): string | undefined {
  try {
    return decodeURIComponent(new URL(request.url).pathname);
  } catch {
    return undefined;
  }
}

async function serveFile(request: Request, file: string, path: string): Promise<Response> {
  const info = await stat(file).catch(() => undefined);
  // A layout removed while served: gone, not an error of the server.
  if (!info?.isFile()) return new Response(null, { status: 404 });
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    "accept-ranges": "bytes",
    etag,
    "content-type": path.endsWith(".json") ? "application/json" : "application/octet-stream",
    "cache-control": "public, max-age=300",
  };
  if (request.headers.get("if-none-match") === etag)
    return new Response(null, { status: 304, headers });
  const range = byteRange(request.headers.get("range"), info.size);
  if (range === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: { ...headers, "content-range": `bytes */${info.size}` },
    });
  }
  const [start, end] = range ?? [0, info.size - 1];
  const length = Math.max(0, end - start + 1);
  headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${start}-${end}/${info.size}`;
  const status = range ? 206 : 200;
  if (request.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  const stream = createReadStream(file, { start, end });
  return new Response(Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, {
    status,
    headers,
  });
}

/**
 * One range of `Range: bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to the file; `undefined`
 * for no header or one this server does not take (several ranges: the whole file is sent).
 */
function byteRange(
  header: string | null,
  size: number,
): [number, number] | "unsatisfiable" | undefined {
  if (header === null) return undefined;
  const match = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}
