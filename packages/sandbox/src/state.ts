import { generateKeyPair } from "@asc-kit/pem";

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

/** A registered web distribution domain. */
export interface StoredDomain {
  id: string;
  domain: string;
  referenceName: string;
  createdDate: string;
}

/** Everything the sandbox keeps: what a {@link SandboxStorage} loads and saves. */
export interface SandboxData {
  apiKeys: RegisteredApiKey[];
  /** The throwaway private key of the first API key, so `credentials` survive a restart. */
  privateKeyPem: string;
  apps: string[];
  keys: StoredDistributionKey[];
  /** Absent in files written before domains existed. */
  domains?: StoredDomain[];
}

/**
 * Where a sandbox keeps its state between runs. `save` gets a snapshot; the sandbox calls it
 * once at a time and answers a change only after the save that includes it has resolved.
 * `startSandbox`'s `dataFile` is a file storage; elsewhere (a worker, a browser) bring your own.
 */
export interface SandboxStorage {
  load(): Promise<SandboxData | undefined>;
  save(data: SandboxData): Promise<void>;
}

export const defaultApps = ["6476788026", "6476788027", "6476788028"];

/** A new state with a fresh admin team key. */
export async function freshData(apps: readonly string[] = defaultApps): Promise<SandboxData> {
  const { privateKeyPem, publicKeyPem } = await generateKeyPair();
  return {
    apiKeys: [{ keyId: randomKeyId(), issuerId: crypto.randomUUID(), publicKeyPem, role: "admin" }],
    privateKeyPem,
    apps: [...apps],
    keys: [],
    domains: [],
  };
}

/** Apple's key IDs are ten upper-case letters and digits. */
function randomKeyId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return Array.from(
    crypto.getRandomValues(new Uint8Array(10)),
    (byte) => alphabet[byte % alphabet.length],
  ).join("");
}

/**
 * Runs saves one at a time. A change joins the save that has not started yet, if there is one,
 * so a burst of changes costs two saves rather than one each, and every change is answered
 * only after a save that started after it has finished.
 */
export function serializedSaves(save: () => Promise<void>): () => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;
  return () => {
    if (waiting) return waiting;
    const next = tail
      .catch(() => undefined)
      .then(() => {
        waiting = undefined;
        return save();
      });
    waiting = next;
    tail = next;
    return next;
  };
}
