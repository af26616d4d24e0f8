import { appRoutes } from "./resources/apps.js";
import { createResourceContext } from "./resources/context.js";
import type { ResourceFamily, SandboxStats } from "./resources/context.js";
import { domainRoutes } from "./resources/domains.js";
import { keyRoutes } from "./resources/keys.js";
import { marketplaceRoutes } from "./resources/marketplace.js";
import { packageControls } from "./resources/package-controls.js";
import { packageRoutes } from "./resources/packages.js";
import { webhookRoutes } from "./resources/webhooks.js";
import { createNotifier } from "./notifier.js";
import type { NotificationOptions } from "./notifier.js";
import { assetServer } from "./assets.js";
import { createApi } from "./api.js";
import { controlRoutes } from "./control.js";
import { faultSource } from "./faults.js";
import type { FaultKind, FaultOptions } from "./faults.js";
import { createGate } from "./gate.js";
import { createResponder } from "./respond.js";
import type { Outcome } from "./respond.js";
import { openState } from "./state.js";
import type {
  RegisteredApiKey,
  SandboxStorage,
  StoredAppStoreVersion,
  StoredDistributionKey,
  StoredDomain,
  StoredWebhook,
} from "./state.js";

/** Options of {@link createSandbox}; `startSandbox` takes these too. */
export interface CreateSandboxOptions {
  /**
   * The origin every link is built on. Default `https://api.appstoreconnect.apple.com`, so that
   * a client with its default `baseUrl` and `fetch: sandbox.fetch` just works.
   */
  baseUrl?: string;
  /** Where state is kept between runs; default: in memory only. */
  storage?: SandboxStorage;
  /** App IDs that exist. Default `["6476788026", "6476788027", "6476788028"]`. */
  apps?: readonly string[];
  /** More API keys to accept, e.g. an individual key or one whose role may not manage keys. */
  apiKeys?: readonly RegisteredApiKey[];
  /** Requests per key per rolling hour before 429. Default 3,500. */
  hourlyRequestLimit?: number;
  /** Sent with a 429 when set, in seconds. Apple documents none. */
  retryAfterSeconds?: number;
  /** Refuse tokens without `iat` or without `typ: "JWT"`, which Apple documents. Default false. */
  strictTokens?: boolean;
  /** Answer with CORS headers (any origin), for tests that call the sandbox from a page. */
  cors?: boolean;
  faults?: FaultOptions;
  /** The clock in ms. Default `Date.now`. It also decides when download links expire. */
  now?: () => number;
  /** Bytes of each variant and delta the sandbox serves. Default 192 KiB. */
  assetBytes?: number;
  /** The manifest's digest chunk size. Default 64 KiB (Apple's large assets use 10 MiB). */
  assetChunkBytes?: number;
  /** The device classes a new package gets a variant for. Default `["iPhone", "iPad"]`. */
  installTargets?: readonly string[];
  /** How notifications are delivered to webhooks: duplicates, order, the fetch they go through. */
  notifications?: NotificationOptions;
}

export type { SandboxStats } from "./resources/context.js";
export type { FaultKind, FaultOptions } from "./faults.js";

/** A sandbox in this process: a fetch handler with App Store Connect's behaviour. */
export interface SandboxHandler {
  /** The origin links are built on. */
  url: string;
  /**
   * A `fetch` served by the sandbox, for `createAppStoreConnectClient({ fetch: sandbox.fetch })`
   * or anywhere a fetch is injected. An injected reset rejects as a network error does.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The same as a handler from `Request` to `Response`, for mocking tools and workers. */
  handle(request: Request): Promise<Response>;
  /** A throwaway team API key registered with the admin role. */
  credentials: { keyId: string; issuerId: string; privateKey: string };
  stats: SandboxStats;
  /** Replaces the fault rates. */
  setFaults(faults: FaultOptions): void;
  /** Queues faults for the next requests, one each, in order. */
  injectFaults(...kinds: FaultKind[]): void;
  /**
   * Queues faults for the next variant and delta downloads only (API calls and the version's
   * zip go untouched): `truncated`, `reset-before`, `corrupt`, `slow`, …, one per download.
   */
  injectAssetFaults(...kinds: FaultKind[]): void;
  /** Registers another API key. */
  addApiKey(apiKey: RegisteredApiKey): void;
  /** A copy of the stored alternative distribution keys. */
  keys(): StoredDistributionKey[];
  /** A copy of the registered domains. */
  domains(): StoredDomain[];
  /** A copy of the App Store versions: `<app>-1.0` may get a package, `<app>-1.1` may not. */
  appStoreVersions(): StoredAppStoreVersion[];
  /** Resolves once every save under way has finished. */
  flush(): Promise<void>;
  /**
   * Adds a delta to a package version, as Apple does after the variants: its manifest lists it
   * from then on. Returns the delta's id.
   */
  addDelta(packageVersionId: string): Promise<string>;
  /**
   * Publishes a new version of a package: it is `COMPLETED`, the one before `REPLACED`, and
   * webhooks subscribed to `ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED` (and the
   * marketplace webhook) are notified. Returns the new version's id.
   */
  publishPackageVersion(packageId: string, versionNumber?: string): Promise<string>;
  /** Notifies that a package may (no longer) be distributed. */
  setPackageAvailability(packageId: string, available: boolean): void;
  /** Notifies that an app may no longer be distributed at all. */
  withdrawApp(appId: string): void;
  /** Notifies that an app became (un)available in territories (ISO 3166-1 alpha-3). */
  setTerritoryAvailability(appId: string, territories: readonly string[], available: boolean): void;
  /** The webhooks registered through `/v1/webhooks`, without their secrets. */
  webhooks(): Omit<StoredWebhook, "secret">[];
  /** Resolves once every notification queued so far was delivered (or failed). */
  notificationsSettled(): Promise<void>;
}

export type { Outcome } from "./respond.js";

/** The resource families the sandbox serves; a new family is one more module here. */
const families: readonly ResourceFamily[] = [
  keyRoutes,
  domainRoutes,
  appRoutes,
  packageRoutes,
  webhookRoutes,
  marketplaceRoutes,
];

/**
 * An App Store Connect sandbox as a Web fetch handler: Apple's authentication rules,
 * validation, paging, rate limits and fault injection, with no server and no `node:` import,
 * so it runs in Node.js, Deno, Bun, workers and browsers.
 *
 * @example
 * ```ts
 * import { createSandbox } from "@asc-kit/sandbox/web";
 * import { createAppStoreConnectClient, listAlternativeDistributionKeys } from "@asc-kit/core";
 *
 * const sandbox = await createSandbox();
 * const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
 * const { data } = await listAlternativeDistributionKeys(client);
 * ```
 */
export async function createSandbox(options: CreateSandboxOptions = {}): Promise<SandboxHandler> {
  const origin = originOf(options.baseUrl ?? "https://api.appstoreconnect.apple.com");
  const core = await createSandboxCore(options, () => origin);
  const handle = async (request: Request) => asFetchResponse(await core.respond(request));
  return {
    ...core.controls,
    url: origin,
    handle,
    fetch: (input, init) => handle(new Request(input, init)),
  };
}

/** The sandbox without a transport: `startSandbox` and `createSandbox` put one around it. */
export async function createSandboxCore(options: CreateSandboxOptions, baseUrl: () => string) {
  const now = options.now ?? Date.now;
  if (
    options.installTargets !== undefined &&
    (options.installTargets.length === 0 ||
      !options.installTargets.every((target) => typeof target === "string" && target !== ""))
  ) {
    throw new TypeError('installTargets must list at least one device class, e.g. ["iPhone"].');
  }
  const { data, save } = await openState(options.storage, options.apps, options.apiKeys);
  const stats: SandboxStats = {
    requests: 0,
    tokens: 0,
    creates: 0,
    deletes: 0,
    faults: 0,
    assetRequests: {},
  };
  const assets = assetServer(
    data,
    {
      ...(options.assetBytes !== undefined ? { assetBytes: options.assetBytes } : {}),
      ...(options.assetChunkBytes !== undefined
        ? { assetChunkBytes: options.assetChunkBytes }
        : {}),
    },
    now,
  );
  const notifier = createNotifier(data, options.notifications ?? {}, now, () => {
    save?.().catch(() => undefined);
  });
  const context = createResourceContext({
    data,
    save,
    stats,
    notifier,
    baseUrl,
    installTargets: options.installTargets ?? ["iPhone", "iPad"],
    link: (path, lifetimeMs) => assets.link(baseUrl(), path, lifetimeMs),
  });
  const api = createApi(families, context);

  const faults = faultSource(options.faults ?? {});
  const controls = packageControls(context, assets.forget);
  const respond = createResponder({
    api,
    controls: controlRoutes(controls),
    gate: createGate(data, options, now, stats),
    faults,
    assets,
    stats,
    baseUrl,
    cors: options.cors ?? false,
  });

  return {
    respond,
    data,
    /** Every route as `METHOD /pattern`. */
    routes: api.routes,
    controls: {
      credentials: {
        keyId: data.apiKeys[0]!.keyId,
        issuerId: data.apiKeys[0]!.issuerId!,
        privateKey: data.privateKeyPem,
      },
      stats,
      setFaults(next: FaultOptions) {
        faults.current = next;
      },
      injectFaults(...kinds: FaultKind[]) {
        faults.queue.push(...kinds);
      },
      injectAssetFaults(...kinds: FaultKind[]) {
        faults.assetQueue.push(...kinds);
      },
      addApiKey(apiKey: RegisteredApiKey) {
        data.apiKeys.push(apiKey);
      },
      keys: () => data.keys.map((key) => ({ ...key })),
      domains: () => (data.domains ?? []).map((domain) => ({ ...domain })),
      appStoreVersions: () => (data.appStoreVersions ?? []).map((version) => ({ ...version })),
      flush: () => (save ? save() : Promise.resolve()),
      ...controls,
      webhooks: () =>
        (data.webhooks ?? []).map(({ secret: _secret, ...webhook }) => ({ ...webhook })),
      notificationsSettled: () => notifier.settled(),
    },
  };
}

function originOf(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl must be an absolute URL such as "https://api.example.test".`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new TypeError("baseUrl must be an origin alone, without a path, query or fragment.");
  }
  return url.origin;
}

/** A fetch response for an outcome: a reset rejects, a truncated body errors half-way. */
function asFetchResponse(outcome: Outcome): Response | Promise<never> {
  if (outcome.kind === "response") return outcome.response;
  if (outcome.kind === "reset") {
    return Promise.reject(
      new TypeError("fetch failed", {
        cause: new Error("The sandbox reset the connection (an injected fault)."),
      }),
    );
  }
  const { response } = outcome;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      controller.enqueue(bytes.slice(0, Math.floor(bytes.byteLength / 2)));
      controller.error(
        new TypeError("terminated: the sandbox cut the body off (an injected fault)"),
      );
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
