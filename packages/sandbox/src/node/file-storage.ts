import { open, readFile, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { SandboxData, SandboxStorage } from "../state.js";

const temporaryName = /^\.?(.+)\.[0-9a-f-]{36}\.tmp$/;

/**
 * The sandbox's state in a JSON file (mode 0600: it holds the throwaway API key). Each save
 * writes a temporary file, syncs it, renames it over the file and syncs the folder, so a save
 * that resolved survives a crash, and a crash mid-save leaves the previous file whole.
 * Temporary files a crash left behind are removed when the storage is opened.
 */
export async function fileStorage(path: string): Promise<SandboxStorage> {
  await removeStaleTemporaryFiles(path);
  return {
    load: () => loadData(path),
    async save(data) {
      const temporary = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
      const file = await open(temporary, "wx", 0o600);
      try {
        await file.writeFile(`${JSON.stringify(data, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      try {
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      await syncFolder(dirname(path));
    },
  };
}

async function loadData(path: string): Promise<SandboxData | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as SandboxData;
  } catch (error) {
    throw new Error(
      `The sandbox data file ${path} is not valid JSON; move it away to start afresh.`,
      { cause: error },
    );
  }
}

async function removeStaleTemporaryFiles(path: string): Promise<void> {
  const folder = dirname(path);
  const names = await readdir(folder).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => temporaryName.exec(name)?.[1] === basename(path))
      .map((name) => rm(join(folder, name), { force: true })),
  );
}

/** Makes a rename durable. Some platforms cannot open a folder for syncing: nothing to do there. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
