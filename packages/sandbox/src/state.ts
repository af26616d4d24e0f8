import { randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";

/** An App Store Connect API key the sandbox accepts tokens from. */
export interface RegisteredApiKey {
  keyId: string;
  /** Present for team keys; individual keys sign with `sub: "user"` instead. */
  issuerId?: string;
  /** SPKI PEM of the key's public half: tokens are verified against it. */
  publicKeyPem: string;
  /** `admin` may manage alternative distribution keys; `developer` gets 403. */
  role: "admin" | "developer";
}

/** A stored alternative distribution key. */
export interface StoredDistributionKey {
  id: string;
  publicKey: string;
  appId?: string;
}

/** Everything the sandbox keeps; what `dataFile` holds. */
/** A registered web distribution domain. */
export interface StoredDomain {
  id: string;
  domain: string;
  referenceName: string;
  createdDate: string;
}

export interface SandboxData {
  apiKeys: RegisteredApiKey[];
  /** The throwaway private key of the first API key, so `credentials` survive a restart. */
  privateKeyPem: string;
  apps: string[];
  keys: StoredDistributionKey[];
  /** Absent in files written before domains existed. */
  domains?: StoredDomain[];
}

export async function loadData(dataFile: string | undefined): Promise<SandboxData | undefined> {
  if (!dataFile) return undefined;
  let text: string;
  try {
    text = await readFile(dataFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as SandboxData;
  } catch (error) {
    throw new Error(
      `The sandbox data file ${dataFile} is not valid JSON; move it away to start afresh.`,
      {
        cause: error,
      },
    );
  }
}

/** Writes the data to a temporary file, then renames it over the old one: never half a file. */
export async function saveData(dataFile: string, data: SandboxData): Promise<void> {
  const temporary = `${dataFile}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, dataFile);
}
