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

/** An App Store version; only approved ones may get an alternative distribution package. */
export interface StoredAppStoreVersion {
  id: string;
  appId: string;
  versionString: string;
  /** Apple's `appVersionState`, e.g. `READY_FOR_DISTRIBUTION` or `PREPARE_FOR_SUBMISSION`. */
  state: string;
}

/** An alternative distribution package, one per App Store version. */
export interface StoredPackage {
  id: string;
  appStoreVersionId: string;
  sourceFileChecksum: string;
}

/** A version of a package: `COMPLETED` is the one to distribute, `REPLACED` superseded. */
export interface StoredPackageVersion {
  id: string;
  packageId: string;
  version: string;
  state: "COMPLETED" | "REPLACED";
  fileChecksum: string;
}

/** A variant (a whole app for a device class) or a delta (an update from an earlier version). */
export interface StoredPackageAsset {
  id: string;
  packageVersionId: string;
  kind: "variant" | "delta";
  /** The device class a variant installs on (`iPhone`, `iPad`). */
  installTarget?: string;
  keyBlob: string;
  fileChecksum: string;
}

/** A webhook of `/v1/webhooks`: App Store Connect POSTs the events it names to `url`. */
export interface StoredWebhook {
  id: string;
  appId: string;
  name: string;
  url: string;
  /** Write-only in the API: never in an answer. */
  secret: string;
  eventTypes: string[];
  enabled: boolean;
}

/** Something that happened, sent to the webhooks that asked for its type. */
export interface StoredWebhookEvent {
  id: string;
  /** Absent for a ping, which is no event type of Apple's list. */
  eventType?: string;
  /** The JSON body sent, exactly. */
  payload: string;
  createdDate: string;
  ping: boolean;
}

/** One attempt to deliver an event to a webhook, as `/v1/webhooks/{id}/deliveries` lists. */
export interface StoredWebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  url: string;
  createdDate: string;
  sentDate?: string;
  deliveryState: "SUCCEEDED" | "FAILED" | "PENDING";
  httpStatusCode?: number;
  /** The first kilobyte of the receiver's answer. */
  responseBody?: string;
  errorMessage?: string;
  redelivery: boolean;
}

/** The deprecated `/v1/marketplaceWebhooks` endpoint: one per account. */
export interface StoredMarketplaceWebhook {
  id: string;
  endpointUrl: string;
  secret: string;
}

/** A marketplace app's catalog for Spotlight: one per app. */
export interface StoredSearchDetail {
  id: string;
  appId: string;
  catalogUrl: string;
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
  /** Absent in files written before packages existed. */
  appStoreVersions?: StoredAppStoreVersion[];
  packages?: StoredPackage[];
  packageVersions?: StoredPackageVersion[];
  packageAssets?: StoredPackageAsset[];
  /** Absent in files written before webhooks existed. */
  webhooks?: StoredWebhook[];
  webhookEvents?: StoredWebhookEvent[];
  webhookDeliveries?: StoredWebhookDelivery[];
  marketplaceWebhooks?: StoredMarketplaceWebhook[];
  searchDetails?: StoredSearchDetail[];
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

/**
 * Each app's App Store versions: `<app>-1.0` approved (`READY_FOR_DISTRIBUTION`), so it may get
 * a package, and `<app>-1.1` still being prepared, which is refused one.
 */
export function defaultAppStoreVersions(apps: readonly string[]): StoredAppStoreVersion[] {
  return apps.flatMap((appId) => [
    { id: `${appId}-1.0`, appId, versionString: "1.0", state: "READY_FOR_DISTRIBUTION" },
    { id: `${appId}-1.1`, appId, versionString: "1.1", state: "PREPARE_FOR_SUBMISSION" },
  ]);
}

/** A new state with a fresh admin team key. */
export async function freshData(apps: readonly string[] = defaultApps): Promise<SandboxData> {
  const { privateKeyPem, publicKeyPem } = await generateKeyPair();
  return {
    apiKeys: [{ keyId: randomKeyId(), issuerId: crypto.randomUUID(), publicKeyPem, role: "admin" }],
    privateKeyPem,
    apps: [...apps],
    keys: [],
    domains: [],
    appStoreVersions: defaultAppStoreVersions(apps),
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
 * The state a sandbox starts from: what `storage` holds, or a fresh one with `apps`, plus the
 * extra API keys; saved once at once so that the file exists. `save` is undefined without a
 * storage (memory only).
 */
export async function openState(
  storage: SandboxStorage | undefined,
  apps: readonly string[] = defaultApps,
  apiKeys: readonly RegisteredApiKey[] = [],
) {
  const data: SandboxData = (await storage?.load()) ?? (await freshData(apps));
  for (const apiKey of apiKeys) {
    if (!data.apiKeys.some((known) => known.keyId === apiKey.keyId)) data.apiKeys.push(apiKey);
  }
  // Files written before packages existed have no App Store versions: give their apps some.
  data.appStoreVersions ??= defaultAppStoreVersions(data.apps);
  const save = storage ? serializedSaves(() => storage.save(structuredClone(data))) : undefined;
  await save?.();
  return { data, save };
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
