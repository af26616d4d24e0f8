import type { DownloadType, InstallTokenSigner } from "@asc-kit/install-token";
import { createCatalogHandler } from "./catalog.js";
import type { CatalogOptions } from "./catalog.js";
import type { MarketplaceKitConfiguration } from "./configuration.js";
import { StoreUnavailableError } from "./deadline.js";
import { RequestProblem, readAppsRequest } from "./request.js";
import type { AppsRequest } from "./request.js";
import type { DistributionStore, StoredVersion } from "./store.js";
import { compareVersions, newestFirst, runsOn } from "./versions.js";

/** Who is asking: an account, or why there is none (401 for missing, 403 for invalid). */
export type Authentication = { account: string } | "missing" | "invalid";

export interface DistributionHandlerOptions {
  /** Where versions and installs are kept: `openEmbeddedStore` or `openPostgresStore`. */
  store: DistributionStore;
  /** Served at `/.well-known/marketplace-kit`; its restore and updates URLs are answered here. */
  configuration: MarketplaceKitConfiguration;
  /** `createInstallTokenSigner` from `@asc-kit/install-token`, with the distribution key. */
  signer: InstallTokenSigner;
  /**
   * Who sent the request. Apple: a token that is missing is 401, one that is present but not
   * valid is 403; the device then asks the person to sign in again.
   */
  authenticate(request: Request): Authentication | Promise<Authentication>;
  /** Whether the account may have the app (a purchase, a subscription). Default: every app. */
  entitled?(account: string, appleItemId: string): boolean | Promise<boolean>;
  /** Told of failures answered 5xx (a store that is down, a hook that threw). */
  onError?(error: unknown): void;
  /**
   * Also serve the marketplace's search catalog (`sitemap.xml` and a page per app) under
   * `catalog.url`: see `buildCatalog`.
   */
  catalog?: CatalogOptions;
}

/** One app of a restore or updates answer. */
export interface ServedApp {
  appleItemId: string;
  appleVersionId: string;
  alternativeDistributionPackage: string;
  installVerificationToken: string;
  bundleVersion?: string;
  shortVersionString?: string;
}

/** An app that cannot be served: Apple documents code 404 ("app isn't available"). */
export interface Failure {
  appleItemId: string;
  appleVersionId?: string;
  failure: { code: 404; description: string };
}

const wellKnownPath = "/.well-known/marketplace-kit";
/** How long a device should wait before asking again when the store is down. */
const retryAfterSeconds = 5;

/**
 * The server MarketplaceKit calls, as a Web fetch handler (`(request) => Promise<Response>`, on
 * Node.js, Deno, Bun and workers): `GET /.well-known/marketplace-kit` (JSON, never a redirect),
 * and `POST` to the configuration's restore and updates URLs. For each requested app it checks
 * the account's entitlement, picks the newest available version that runs on the request's
 * platform and OS, records the install (`download` the first time for this account and app,
 * `redownload` after: durable before the answer), and signs a fresh install verification token.
 * Unknown, withdrawn, unentitled or incompatible apps are `failures` with code 404. Anything
 * else is answered 404; bad input a 4xx with a JSON `{ error, message }`; a store that is down
 * 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { createDistributionHandler, marketplaceKitConfiguration } from "@asc-kit/distribution";
 * import { openEmbeddedStore } from "@asc-kit/distribution/pglite";
 * import { createInstallTokenSigner } from "@asc-kit/install-token";
 *
 * const handler = createDistributionHandler({
 *   store: await openEmbeddedStore("./distribution-data"),
 *   configuration: marketplaceKitConfiguration({
 *     restore: "https://apps.example.com/marketplace-kit/restore",
 *     updatesUrl: "https://apps.example.com/marketplace-kit/updates",
 *   }),
 *   signer: createInstallTokenSigner({
 *     privateKey: process.env.ALT_DISTRIBUTION_PRIVATE_KEY!,
 *     keyId: process.env.ALT_DISTRIBUTION_KEY_ID!,
 *     appleItemId: "6476788026",
 *     lifetimeSeconds: 1200,
 *   }),
 *   authenticate: (request) =>
 *     request.headers.get("authorization") === null ? "missing" : { account: "someone" },
 * });
 * ```
 */
export function createDistributionHandler(
  options: DistributionHandlerOptions,
): (request: Request) => Promise<Response> {
  for (const name of ["store", "configuration", "signer"] as const) {
    if (!options?.[name]) throw new TypeError(`createDistributionHandler needs options.${name}.`);
  }
  if (typeof options.authenticate !== "function") {
    throw new TypeError("createDistributionHandler needs options.authenticate.");
  }
  const routes = new Map<string, "restore" | "updates">([
    [new URL(options.configuration.restore).pathname, "restore"],
    [new URL(options.configuration.updates.url).pathname, "updates"],
  ]);
  const configurationBody = JSON.stringify(options.configuration);
  const catalog = options.catalog && createCatalogHandler(options.store, options.catalog);
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (catalog) {
      const answer = await catalog(request).catch((error: unknown) => {
        options.onError?.(error);
        return problem(500, "INTERNAL", "The catalog could not be built.");
      });
      if (answer) return answer;
    }
    if (path === wellKnownPath) {
      if (request.method !== "GET" && request.method !== "HEAD") return methodNotAllowed("GET");
      return new Response(request.method === "HEAD" ? null : configurationBody, {
        headers: { "content-type": "application/json", "cache-control": "max-age=300" },
      });
    }
    const kind = routes.get(path);
    if (!kind) return problem(404, "NOT_FOUND", "Nothing is served at this path.");
    if (request.method !== "POST") return methodNotAllowed("POST");
    try {
      return await serveApps(kind, request, options);
    } catch (error) {
      if (error instanceof RequestProblem) return problem(error.status, error.code, error.message);
      options.onError?.(error);
      if (error instanceof StoreUnavailableError) {
        return problem(
          503,
          "STORE_UNAVAILABLE",
          "The server's store is unavailable: try again shortly.",
          {
            "retry-after": String(retryAfterSeconds),
          },
        );
      }
      return problem(500, "INTERNAL", "The request could not be served.");
    }
  };
}

async function serveApps(
  kind: "restore" | "updates",
  request: Request,
  options: DistributionHandlerOptions,
): Promise<Response> {
  const who = await options.authenticate(request);
  if (who === "missing") {
    return problem(401, "UNAUTHENTICATED", "Sign in: the request has no access token.", {
      "www-authenticate": "Bearer",
    });
  }
  if (who === "invalid" || typeof who?.account !== "string" || who.account === "") {
    return problem(403, "FORBIDDEN", "The access token is not valid: sign in again.");
  }
  const asked = await readAppsRequest(request);
  const { served, failures } = await choose(kind, asked, who.account, options);
  const claims = await options.store.claimInstalls(
    who.account,
    served.map((version) => version.appleItemId),
  );
  const items = await Promise.all(
    served.map((version) => servedApp(kind, version, claims.get(version.appleItemId)!, options)),
  );
  const body = { [kind === "restore" ? "restores" : "updates"]: items, failures };
  return new Response(JSON.stringify(body), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** The version to hand out for each app, or why there is none. */
async function choose(
  kind: "restore" | "updates",
  asked: AppsRequest,
  account: string,
  options: DistributionHandlerOptions,
): Promise<{ served: StoredVersion[]; failures: Failure[] }> {
  const versions = await options.store.versionsOf(asked.apps.map((app) => app.appleItemId));
  const entitled = await Promise.all(
    asked.apps.map((app) => options.entitled?.(account, app.appleItemId) ?? true),
  );
  const served: StoredVersion[] = [];
  const failures: Failure[] = [];
  for (const [index, app] of asked.apps.entries()) {
    const fail = (description: string) =>
      failures.push({ ...app, failure: { code: 404, description } });
    const known = versions.filter((version) => version.appleItemId === app.appleItemId);
    const available = known.filter((version) => version.available);
    if (available.length === 0) {
      fail(known.length === 0 ? "App unknown." : "App unavailable.");
      continue;
    }
    if (!entitled[index]) {
      fail("App unavailable for this account.");
      continue;
    }
    const [newest] = newestFirst(
      available.filter((v) => runsOn(v, asked.platform, asked.osVersion)),
    );
    if (!newest) {
      fail(`App unavailable for ${asked.platform} ${asked.osVersion}.`);
      continue;
    }
    if (kind === "updates" && !isNewer(newest, app.appleVersionId, known)) continue;
    served.push(newest);
  }
  return { served, failures };
}

/** Whether `candidate` is newer than the version the device holds (any, when it is unknown). */
function isNewer(
  candidate: StoredVersion,
  held: string | undefined,
  known: StoredVersion[],
): boolean {
  if (held === candidate.appleVersionId) return false;
  const holding = known.find((version) => version.appleVersionId === held);
  if (!holding) return true;
  return (
    (compareVersions(candidate.bundleVersion, holding.bundleVersion) ||
      compareVersions(candidate.shortVersionString, holding.shortVersionString)) > 0
  );
}

async function servedApp(
  kind: "restore" | "updates",
  version: StoredVersion,
  downloadType: DownloadType,
  options: DistributionHandlerOptions,
): Promise<ServedApp> {
  const installVerificationToken = await installTokenFor(options.signer, version, downloadType);
  const item: ServedApp = {
    appleItemId: version.appleItemId,
    appleVersionId: version.appleVersionId,
    alternativeDistributionPackage: version.packageUrl,
    installVerificationToken,
  };
  if (kind === "updates") {
    item.bundleVersion = version.bundleVersion;
    item.shortVersionString = version.shortVersionString;
  }
  return item;
}

/** A fresh install verification token for a version: `bid`, `iid` and `vid` from it. */
export function installTokenFor(
  signer: InstallTokenSigner,
  version: StoredVersion,
  downloadType: DownloadType,
): Promise<string> {
  return signer.sign({
    bundleId: version.bundleId,
    downloadType,
    installId: version.appleItemId,
    versionId: version.appleVersionId,
  });
}

function methodNotAllowed(allow: string): Response {
  return problem(405, "METHOD_NOT_ALLOWED", `Use ${allow}.`, { allow });
}

function problem(
  status: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error, message }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
