import { randomBytes } from "node:crypto";
import { open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DistributionStore } from "@asc-kit/distribution";
import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
import { openPostgresStore } from "@asc-kit/distribution/postgres";
import { localError, usageError } from "../report.js";

/**
 * The secret that signs `serve token`'s bearer tokens: 32 random bytes in `<data>/token-secret`
 * (mode 0600), made by whichever command needs it first. Kept apart from the embedded database,
 * which one process at a time may open, so that `serve token` works while the server runs.
 */
export async function tokenSecret(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, "token-secret");
  try {
    await writeFile(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
  }
  const hex = (await readFile(path, "utf8")).trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw localError(
      `${path} is not a token secret: remove it to make a new one (tokens issued with it stop working).`,
      "TOKEN_SECRET",
    );
  }
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/**
 * The store: PostgreSQL when a URL is given, else the embedded one in `<data>/store`, with a
 * lock file so that a second server on the same folder is refused rather than corrupting it.
 */
export async function openStore(
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<{ store: DistributionStore; kind: "embedded" | "postgres"; close(): Promise<void> }> {
  if (databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw usageError("--database-url must be a postgres:// URL.");
    }
    const store = await openPostgresStore(databaseUrl).catch((error: unknown) => {
      // The URL may hold a password: the message names neither.
      throw localError(
        `Cannot reach PostgreSQL at --database-url: ${(error as Error).message.replace(databaseUrl, "<url>")}`,
        "DATABASE",
      );
    });
    return { store, kind: "postgres", close: () => store.close() };
  }
  const lock = join(dataDir, "store.lock");
  await takeLock(lock);
  try {
    const store = await openEmbeddedStore(join(dataDir, "store"));
    return {
      store,
      kind: "embedded",
      async close() {
        await store.close();
        await rm(lock, { force: true });
      },
    };
  } catch (error) {
    await rm(lock, { force: true });
    throw error;
  }
}

/** Takes the lock file of an embedded database for this process, or says who holds it. */
export async function takeLock(path: string, holderName = "asc-kit serve"): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, "wx", 0o600);
      await file.writeFile(String(process.pid));
      await file.close();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      const holder = Number(await readFile(path, "utf8").catch(() => ""));
      if (holder > 0 && isRunning(holder)) {
        throw localError(
          `Another ${holderName} (process ${holder}) uses this data folder: the embedded store takes one process at a time. Stop it, give another --data, or use --database-url.`,
          "DATA_IN_USE",
        );
      }
      // Left by a server that was killed: taken over.
      await rm(path, { force: true });
    }
  }
  throw localError(`Cannot lock ${path}.`, "DATA_IN_USE");
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}
