import { lstat, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

/**
 * Where verified package layouts go to be served. A layout is put whole or not at all: devices
 * never see part of one. The folder storage is the default; an object store (S3, R2, GCS)
 * plugs in with the same three methods: upload every file under `path`, then answer `has`.
 */
export interface PackageStorage {
  /** The base URL devices fetch the layout at `path` from (ends in `/`). */
  urlOf(path: string): string;
  /** Whether a complete layout is at `path`. */
  has(path: string): Promise<boolean>;
  /**
   * Moves the verified layout in the local folder `folder` to `path`, replacing what is there.
   * Resolves once it is complete where devices fetch it.
   */
  put(path: string, folder: string): Promise<void>;
  /** A local folder for layouts being downloaded, where a worker after a crash resumes them. */
  workFolder: string;
}

/**
 * Layouts in a folder, served at `baseUrl` (what `asc-kit serve` and `asc-kit marketplace run`
 * serve): `<root>/<appleItemId>/<versionId>/`. Downloads under way are kept beside the root in
 * `<root>.work`, on the same file system, so that a layout is moved in with one rename.
 *
 * @example
 * ```ts
 * import { folderStorage } from "@asc-kit/marketplace";
 *
 * const storage = folderStorage("./packages", "https://apps.example.com/packages/");
 * ```
 */
export function folderStorage(root: string, baseUrl: string): PackageStorage {
  if (typeof root !== "string" || root === "") {
    throw new TypeError("folderStorage needs the folder to keep layouts in.");
  }
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new TypeError("folderStorage needs the URL the folder is served at.");
  }
  const top = resolve(root);
  const where = (path: string) => join(top, ...checkedPath(path).split("/"));
  return {
    urlOf: (path) => new URL(`${checkedPath(path)}/`, base).href,
    async has(path) {
      const info = await lstat(join(where(path), "manifest.json")).catch(() => undefined);
      return info?.isFile() === true;
    },
    async put(path, folder) {
      const target = where(path);
      await mkdir(dirname(target), { recursive: true });
      // A layout left by an attempt that stopped before it was recorded: replaced whole.
      await rm(target, { recursive: true, force: true });
      await rename(folder, target);
    },
    workFolder: `${top}.work`,
  };
}

/** A storage path: names of letters, digits, `.`, `_` and `-`, joined by `/`, none starting with a dot. */
export function checkedPath(path: string): string {
  if (
    !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}){0,3}$/.test(path)
  ) {
    throw new TypeError(`Not a storage path: ${JSON.stringify(path.slice(0, 200))}.`);
  }
  return path;
}
