import { importSPKI } from "jose";
import { authenticate } from "./auth.js";
import { ApiError } from "./http.js";
import { appRoutes } from "./resources/apps.js";
import type { ResourceContext, ResourceFamily, SandboxStats } from "./resources/context.js";
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
import { ResourceRegistry } from "./query.js";
import type { RouteResult } from "./router.js";
import { defaultAppStoreVersions, defaultApps, freshData, serializedSaves } from "./state.js";
import type {
  RegisteredApiKey,
  SandboxData,
  SandboxStorage,
  StoredAppStoreVersion,
  StoredDistributionKey,
  StoredDomain,
  StoredWebhook,
} from "./state.js";

/**
 * A failure the sandbox can inject. `reset-*` drop the connection; `slow` waits `slowMs`;
 * `truncated` cuts the body off half-way; `corrupt` flips a byte in the middle of an asset.
 */
export type FaultKind =
  | "500"
  | "502"
  | "503"
  | "504"
  | "429"
  | "html"
  | "truncated"
  | "reset-before"
  | "reset-after"
  | "slow"
  | "corrupt";

/** Fault injection, all off by default. */
export interface FaultOptions {
  /** Added to every response, in ms. */
  latencyMs?: number;
  /** Share (0 to 1) of requests answered with a 500, 502 or 503 before anything is applied. */
  serverErrorRate?: number;
  /** Share of requests whose connection is reset before anything is applied. */
  resetBeforeRate?: number;
  /** Share of requests whose connection is reset after the request was applied. */
  resetAfterRate?: number;
  /** How long a `slow` fault waits, in ms. Default 5,000. */
  slowMs?: number;
  /** The random source of the rates. Default `Math.random`. */
  random?: () => number;
}

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

/** What one request came to: a response, or a connection fault for the transport to act out. */
export type Outcome =
  | { kind: "response"; response: Response }
  | { kind: "reset" }
  | { kind: "truncated"; response: Response };

/** The resource families the sandbox serves; a new family is one more module here. */
const families: readonly ResourceFamily[] = [
  keyRoutes,
  domainRoutes,
  appRoutes,
  packageRoutes,
  webhookRoutes,
  marketplaceRoutes,
];

const maximumBodyBytes = 64 * 1024;

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
  const storage = options.storage;
  const loaded = await storage?.load();
  const data: SandboxData = loaded ?? (await freshData(options.apps ?? defaultApps));
  for (const apiKey of options.apiKeys ?? []) {
    if (!data.apiKeys.some((known) => known.keyId === apiKey.keyId)) data.apiKeys.push(apiKey);
  }
  // Files written before packages existed have no App Store versions: give their apps some.
  data.appStoreVersions ??= defaultAppStoreVersions(data.apps);
  const save = storage ? serializedSaves(() => storage.save(structuredClone(data))) : undefined;
  await save?.();

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
  const context: ResourceContext = {
    notifier,
    installTargets: options.installTargets ?? ["iPhone", "iPad"],
    link: (path, lifetimeMs) => assets.link(baseUrl(), path, lifetimeMs),
    data,
    get baseUrl() {
      return baseUrl();
    },
    stats,
    resources: new ResourceRegistry(),
    async commit(apply) {
      const undo = apply();
      if (!save) return;
      try {
        await save();
      } catch {
        undo();
        throw new ApiError(
          500,
          "UNEXPECTED_ERROR",
          "An unexpected error occurred.",
          "The sandbox could not save the change, so it was not applied.",
        );
      }
    },
    async insert(list, item) {
      await context.commit(() => {
        list.push(item);
        return () => void list.splice(list.indexOf(item), 1);
      });
      stats.creates++;
    },
    async remove(list, item) {
      await context.commit(() => {
        const index = list.indexOf(item);
        list.splice(index, 1);
        return () => void list.splice(index, 0, item);
      });
      stats.deletes++;
    },
  };
  const api = createApi(families, context);

  const faults = faultSource(options.faults ?? {});
  const limits = rateLimiter(options.hourlyRequestLimit ?? 3500, now);
  const importedKeys = new Map<string, Promise<CryptoKey>>();
  const importKey = (apiKey: RegisteredApiKey) => {
    let imported = importedKeys.get(apiKey.keyId);
    if (!imported)
      importedKeys.set(apiKey.keyId, (imported = importSPKI(apiKey.publicKeyPem, "ES256")));
    return imported;
  };
  const acceptedTokens = new Set<string>();
  const cors = options.cors
    ? {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": "x-rate-limit, retry-after",
      }
    : {};

  /** Authentication, rate limit, faults that answer, then the route. */
  async function serve(request: Request, url: URL, fault: FaultKind | undefined) {
    const headers: Record<string, string> = {};
    try {
      const auth = await authenticate(
        request.headers.get("authorization"),
        { method: request.method, url },
        data.apiKeys,
        Math.floor(now() / 1000),
        importKey,
        { strictTokens: options.strictTokens ?? false },
      );
      if (!auth.ok) {
        throw new ApiError(
          401,
          "NOT_AUTHORIZED",
          "Authentication credentials are missing or invalid.",
          auth.detail,
        );
      }
      acceptedTokens.add(request.headers.get("authorization")!);
      stats.tokens = acceptedTokens.size;
      const remaining = limits.spend(auth.apiKey.keyId);
      headers["x-rate-limit"] =
        `user-hour-lim:${limits.hourly};user-hour-rem:${Math.max(0, remaining)};`;
      if (remaining < 0 || fault === "429") {
        if (options.retryAfterSeconds !== undefined)
          headers["retry-after"] = String(options.retryAfterSeconds);
        throw new ApiError(
          429,
          "RATE_LIMIT_EXCEEDED",
          "The request rate limit has been reached.",
          `This API key has used its ${limits.hourly} requests for the rolling hour.`,
        );
      }
      if (fault === "html") {
        return new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
          status: 502,
          headers: { "content-type": "text/html", ...cors },
        });
      }
      if (fault === "500" || fault === "502" || fault === "503" || fault === "504") {
        throw new ApiError(
          Number(fault),
          "UNEXPECTED_ERROR",
          "An unexpected error occurred.",
          "Injected server error.",
        );
      }
      if (auth.apiKey.role !== "admin") {
        throw new ApiError(
          403,
          "FORBIDDEN_ERROR",
          "This request is forbidden for security reasons",
          "The API key in use does not allow this request: alternative distribution keys need the Admin role.",
        );
      }
      const body = await readBody(request);
      return answer(request.method, await api.handle(request.method, url, body), headers);
    } catch (error) {
      return answer(request.method, errorResult(error), {
        ...headers,
        ...(error instanceof ApiError ? error.headers : {}),
      });
    }
  }

  function answer(method: string, [status, payload]: RouteResult, headers: Record<string, string>) {
    const text = payload === undefined ? undefined : JSON.stringify(payload);
    return new Response(method === "HEAD" ? null : (text ?? null), {
      status,
      headers: {
        ...(text === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
        ...cors,
      },
    });
  }

  async function respond(request: Request, target?: string): Promise<Outcome> {
    stats.requests++;
    let url: URL;
    try {
      url = rebase(baseUrl(), target ?? pathAndQuery(request.url));
    } catch (error) {
      return { kind: "response", response: answer(request.method, errorResult(error), {}) };
    }
    // Download links are the CDN's, not the API's: no token, no rate limit, no preflight.
    const asset = url.pathname.startsWith("/assets/");
    if (asset) stats.assetRequests[url.pathname] = (stats.assetRequests[url.pathname] ?? 0) + 1;
    if (!asset && request.method === "OPTIONS") {
      const allow = api.methodsOf(url).join(", ");
      return { kind: "response", response: preflight(allow, cors) };
    }
    if (faults.current.latencyMs) await delay(faults.current.latencyMs);
    const fault = faults.next(asset && url.pathname.endsWith(".ipa"));
    if (fault) stats.faults++;
    if (fault === "reset-before") return { kind: "reset" };
    if (fault === "slow") await delay(faults.current.slowMs ?? 5000);
    const response = asset
      ? (cdnError(fault) ??
        (await assets.serve(request, url, fault === "corrupt")) ??
        new Response(null, { status: 404 }))
      : await serve(request, url, fault);
    if (fault === "reset-after") return { kind: "reset" };
    if (fault === "truncated") return { kind: "truncated", response };
    return { kind: "response", response };
  }

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
      ...packageControls(context, assets.forget),
      webhooks: () =>
        (data.webhooks ?? []).map(({ secret: _secret, ...webhook }) => ({ ...webhook })),
      notificationsSettled: () => notifier.settled(),
    },
  };
}

/** A download's answer to a status fault: what a CDN sends, XML and no JSON:API document. */
function cdnError(fault: FaultKind | undefined): Response | undefined {
  if (fault === undefined || !/^\d{3}$/.test(fault)) return undefined;
  return new Response("<Error><Code>ServiceUnavailable</Code></Error>", {
    status: Number(fault),
    headers: { "content-type": "application/xml" },
  });
}

function faultSource(initial: FaultOptions) {
  const source = {
    current: initial,
    queue: [] as FaultKind[],
    /** Faults for the next variant and delta downloads only. */
    assetQueue: [] as FaultKind[],
    next(assetDownload: boolean): FaultKind | undefined {
      const queued =
        (assetDownload ? source.assetQueue.shift() : undefined) ?? source.queue.shift();
      if (queued) return queued;
      const rates = source.current;
      const random = rates.random ?? Math.random;
      if (rates.resetBeforeRate && random() < rates.resetBeforeRate) return "reset-before";
      if (rates.serverErrorRate && random() < rates.serverErrorRate) {
        return (["500", "502", "503"] as const)[Math.floor(random() * 3)];
      }
      if (rates.resetAfterRate && random() < rates.resetAfterRate) return "reset-after";
      return undefined;
    },
  };
  return source;
}

/** Each key's rolling hour of request times; `spend` returns what is left (negative: over). */
function rateLimiter(hourly: number, now: () => number) {
  const requestTimes = new Map<string, number[]>();
  return {
    hourly,
    spend(keyId: string): number {
      const hourAgo = now() - 3_600_000;
      let times = requestTimes.get(keyId);
      if (!times) requestTimes.set(keyId, (times = []));
      // Times are in order: drop the expired ones from the front.
      let expired = 0;
      while (expired < times.length && times[expired]! <= hourAgo) expired++;
      if (expired > 0) times.splice(0, expired);
      times.push(now());
      return hourly - times.length;
    },
  };
}

function errorResult(error: unknown): RouteResult {
  // Anything but an ApiError is the sandbox's own fault: say so without its internals.
  const failure =
    error instanceof ApiError
      ? error
      : new ApiError(
          500,
          "UNEXPECTED_ERROR",
          "An unexpected error occurred.",
          "The sandbox failed to handle this request.",
        );
  return [
    failure.status,
    {
      errors: [
        {
          id: crypto.randomUUID(),
          status: String(failure.status),
          code: failure.code,
          title: failure.title,
          detail: failure.detail,
          ...(failure.source ? { source: failure.source } : {}),
        },
      ],
    },
  ];
}

function preflight(allow: string, cors: Record<string, string>): Response {
  return new Response(null, {
    status: 204,
    headers: {
      allow,
      ...(Object.keys(cors).length > 0
        ? {
            ...cors,
            "access-control-allow-methods": allow,
            "access-control-allow-headers": "authorization, content-type, user-agent",
            "access-control-max-age": "600",
          }
        : {}),
    },
  });
}

/** The request body as text, refused with 413 past 64 KiB and 415 when it is not JSON. */
async function readBody(request: Request): Promise<string> {
  if (!request.body) return "";
  const type = request.headers.get("content-type");
  if (type !== null && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    await request.body.cancel().catch(() => undefined);
    throw new ApiError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "The request entity has an unsupported media type.",
      "Send the request body as JSON, with Content-Type: application/json.",
    );
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maximumBodyBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ApiError(
        413,
        "ENTITY_ERROR.TOO_LARGE",
        "The request entity is too large.",
        `The request body is larger than ${maximumBodyBytes} bytes.`,
      );
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** A request target (`/v1/…?…`) on the sandbox's own origin: never the Host header's. */
function rebase(origin: string, target: string): URL {
  if (!target.startsWith("/")) throw badRequest("The request target must be a path.");
  try {
    // As a client would resolve it (`//[` is an invalid host there), then on our own origin.
    new URL(target, origin);
    return new URL(`${origin}${target}`);
  } catch {
    throw badRequest("The request target is not a valid path.");
  }
}

function pathAndQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

function badRequest(detail: string): ApiError {
  return new ApiError(400, "BAD_REQUEST", "The request could not be understood.", detail);
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
