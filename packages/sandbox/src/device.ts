import { parsePackageManifest, verifiedAsset } from "@asc-kit/core";
import type { ManifestAsset, PackageManifest } from "@asc-kit/core";
import { verifyInstallVerificationToken } from "@asc-kit/install-token";
import { decodeProtectedHeader } from "jose";
import { exchangeLinkToken, readInstallLink, signInAgain, signInServer } from "./device-signin.js";
import type { InstallLink } from "./device-signin.js";
import type { InstallTokenClaims } from "@asc-kit/install-token";

/** What the simulated device is, and whom it talks to. */
export interface DeviceOptions {
  /** The distributor's origin: `https://apps.example.com` (http on loopback only). */
  origin: string;
  /** The app to install or update (its Apple ID). */
  appleItemId: string;
  /** The bearer token the device sends (from sign-in, or `asc-kit serve token`). */
  token?: string;
  /**
   * The alternative distribution key's public key (PEM): every install token is checked with
   * it. Or a function that finds it from the token's `kid` (from App Store Connect, say).
   */
  publicKey: string | ((keyId: string) => Promise<string>);
  /** The key's id in App Store Connect: each token's `kid` must be it, when given. */
  keyId?: string;
  /** The distributor's Apple ID: each token's `iss` must be it, when given. */
  issuer?: string;
  /** Default `iOS`. */
  platform?: "iOS" | "iPadOS";
  /** Default `18.2`. */
  osVersion?: string;
  /** The nonces of every token this device has taken: a nonce seen before fails the check. */
  seenNonces?: Set<string>;
  /** How requests are sent. Default `globalThis.fetch`. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** The most each request may take, in ms. Default 30,000. */
  timeoutMs?: number;
  /** Told of each step as it ends. */
  onStep?: (step: DeviceStep) => void;
  /**
   * A `marketplace-kit://install` link to start from, as a tap on a website's install button
   * gives it: its package must be on the origin's host, and its `token` is exchanged for the
   * access token the device then restores with.
   */
  link?: string;
}

/** One step of an install or update and its verdict. */
export interface DeviceStep {
  step:
    | "configuration"
    | "link"
    | "sign-in"
    | "restore"
    | "updates"
    | "token"
    | "package-host"
    | "manifest"
    | "signature"
    | "variant";
  ok: boolean;
  detail: string;
}

/** How an install or update went: every step, and what was installed when all passed. */
export interface DeviceResult {
  ok: boolean;
  steps: DeviceStep[];
  /** The first step that failed. */
  failedStep?: DeviceStep["step"];
  installed?: {
    appleItemId: string;
    appleVersionId: string;
    bundleId: string;
    shortVersionString?: string;
    downloadType: InstallTokenClaims["dtype"];
    variant: string;
    bytes: number;
  };
  /** For an update: false when the server had nothing newer. */
  updated?: boolean;
}

/** A step's failure: ends the run, naming the step. */
class StepFailure extends Error {
  constructor(
    readonly step: DeviceStep["step"],
    message: string,
  ) {
    super(message);
  }
}

interface Served {
  appleItemId: string;
  appleVersionId: string;
  alternativeDistributionPackage: string;
  installVerificationToken: string;
  shortVersionString?: string;
}

/**
 * Does what an iPhone does to install an app from a distributor, checking each step as the
 * device does: reads `/.well-known/marketplace-kit` (JSON, no redirect, https but on loopback),
 * restores the app with the bearer token, verifies the install verification token (signature,
 * `kid`, `aud`, `iss`, `bid`, `iid`, `vid`, `dtype`, a nonce not seen before, its lifetime),
 * requires the package on the origin's host, then fetches `manifest.json`, `signature` and the
 * variant for its device class, verifying every chunk. It stops at the first failure.
 *
 * @example
 * ```ts
 * import { simulateInstall } from "@asc-kit/sandbox/web";
 *
 * const result = await simulateInstall({
 *   origin: "http://127.0.0.1:8080",
 *   appleItemId: "6476788026",
 *   token: "a bearer token",
 *   publicKey: "-----BEGIN PUBLIC KEY-----…",
 * });
 * if (!result.ok) console.error(result.failedStep, result.steps.at(-1)?.detail);
 * ```
 */
export function simulateInstall(options: DeviceOptions): Promise<DeviceResult> {
  return run(options, undefined);
}

/**
 * Does what an iPhone does to update an app it holds at `appleVersionId`: the same checks as
 * {@link simulateInstall}, through the updates URL. When the server has nothing newer the
 * result is `ok` with `updated: false`.
 */
export function simulateUpdate(
  options: DeviceOptions & { appleVersionId: string },
): Promise<DeviceResult> {
  return run(options, options.appleVersionId);
}

async function run(options: DeviceOptions, heldVersion: string | undefined): Promise<DeviceResult> {
  const steps: DeviceStep[] = [];
  const pass = (step: DeviceStep["step"], detail: string) => {
    const done = { step, ok: true, detail };
    steps.push(done);
    options.onStep?.(done);
  };
  try {
    const origin = originOf(options.origin);
    const configuration = await readConfiguration(origin, options);
    pass(
      "configuration",
      `restore ${configuration.restore}, updates every ${configuration.pollingInterval} h`,
    );
    const kind = heldVersion === undefined ? "restore" : "updates";
    const url = kind === "restore" ? configuration.restore : configuration.updates;
    const served = await askSignedIn(origin, kind, url, heldVersion, options, pass);
    if (!served) {
      pass("updates", "no newer version");
      return { ok: true, steps, updated: false };
    }
    pass(kind, `version ${served.appleVersionId} at ${served.alternativeDistributionPackage}`);
    const claims = await checkToken(served, options);
    pass("token", `${claims.dtype}, nonce ${claims.nonce}, valid ${claims.exp - claims.iat} s`);
    const packageUrl = new URL(served.alternativeDistributionPackage);
    if (packageUrl.host !== origin.host) {
      throw new StepFailure(
        "package-host",
        `the package is on ${packageUrl.host}, not on ${origin.host}: the device refuses it.`,
      );
    }
    pass("package-host", packageUrl.host);
    const manifest = await readManifest(packageUrl, served, claims, options);
    pass(
      "manifest",
      `${manifest.bundleId} ${String(manifest.raw.shortVersionString ?? "")}, ${manifest.variants.length} variants`,
    );
    await readSignature(packageUrl, options);
    pass("signature", "present");
    const { asset, bytes } = await readVariant(packageUrl, manifest, options);
    pass("variant", `${asset.assetPath}: ${bytes} bytes, every chunk verified`);
    return {
      ok: true,
      steps,
      ...(heldVersion === undefined ? {} : { updated: true }),
      installed: {
        appleItemId: served.appleItemId,
        appleVersionId: served.appleVersionId,
        bundleId: manifest.bundleId,
        ...(served.shortVersionString ? { shortVersionString: served.shortVersionString } : {}),
        downloadType: claims.dtype,
        variant: asset.assetPath,
        bytes,
      },
    };
  } catch (error) {
    const step =
      error instanceof StepFailure
        ? error.step
        : ((
            [
              "configuration",
              "restore",
              "updates",
              "token",
              "package-host",
              "manifest",
              "signature",
              "variant",
            ] as const
          )[steps.length] ?? "variant");
    const failed = { step, ok: false, detail: (error as Error)?.message ?? String(error) };
    steps.push(failed);
    options.onStep?.(failed);
    return { ok: false, steps, failedStep: step };
  }
}

function originOf(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StepFailure("configuration", `${JSON.stringify(value.slice(0, 100))} is not a URL.`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new StepFailure(
      "configuration",
      "the origin must be https: devices use TLS for every call (http only on loopback).",
    );
  }
  return url;
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** A request with the device's deadline, never following a redirect. */
async function send(url: string, init: RequestInit, options: DeviceOptions): Promise<Response> {
  const fetcher = options.fetch ?? ((input, more) => globalThis.fetch(input, more));
  return fetcher(url, {
    ...init,
    redirect: "manual",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
}

async function readConfiguration(origin: URL, options: DeviceOptions) {
  const step = "configuration";
  const response = await send(
    new URL("/.well-known/marketplace-kit", origin).href,
    {},
    options,
  ).catch((error: unknown) => {
    throw new StepFailure(
      step,
      `the configuration could not be fetched: ${(error as Error).message}`,
    );
  });
  if (response.status >= 300 && response.status < 400) {
    throw new StepFailure(
      step,
      `the configuration answered a redirect (${response.status}): the device follows none.`,
    );
  }
  if (response.status !== 200)
    throw new StepFailure(step, `the configuration answered ${response.status}.`);
  const body = await json(response, step);
  const restore = deviceUrl(body.restore, "restore", step);
  const updates = body.updates as Record<string, unknown> | undefined;
  const updatesUrl = deviceUrl(updates?.url, "updates.url", step);
  const pollingInterval = updates?.pollingInterval;
  if (typeof pollingInterval !== "number" || pollingInterval < 24) {
    throw new StepFailure(
      step,
      `updates.pollingInterval must be a number of hours, at least 24; got ${JSON.stringify(pollingInterval)}.`,
    );
  }
  return { restore, updates: updatesUrl, pollingInterval };
}

function deviceUrl(value: unknown, name: string, step: DeviceStep["step"]): string {
  if (typeof value !== "string") throw new StepFailure(step, `${name} is missing.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StepFailure(step, `${name} is not an absolute URL.`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new StepFailure(step, `${name} must be https.`);
  }
  return url.href;
}

async function json(
  response: Response,
  step: DeviceStep["step"],
): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (text.length > 1024 * 1024) throw new StepFailure(step, "the answer is larger than 1 MiB.");
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new StepFailure(step, "the answer is not a JSON object.");
}

/**
 * Restore or updates, signed in as the device is: with the access token a link's `token` is
 * exchanged for, when a link is given; and when the server answers 401 or 403, signed in again
 * with an authorization code and PKCE, then asked once more.
 */
async function askSignedIn(
  origin: URL,
  kind: "restore" | "updates",
  url: string,
  heldVersion: string | undefined,
  options: DeviceOptions,
  pass: (step: DeviceStep["step"], detail: string) => void,
): Promise<Served | undefined> {
  const fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const signingIn = async <T>(work: () => Promise<T>) =>
    work().catch((error: unknown) => {
      throw new StepFailure("sign-in", (error as Error).message);
    });
  let server: Awaited<ReturnType<typeof signInServer>> | undefined;
  let asked = options;
  let link: InstallLink | undefined;
  if (options.link !== undefined) {
    link = await Promise.resolve()
      .then(() => readInstallLink(options.link!, origin))
      .catch((error: unknown) => {
        throw new StepFailure("link", (error as Error).message);
      });
    pass(
      "link",
      `package on ${link.packageUrl.host}${link.account ? `, account ${link.account}` : ""}`,
    );
    if (link.token) {
      server = await signingIn(() => signInServer(origin, fetcher));
      const token = await signingIn(() => exchangeLinkToken(server!, link!.token!));
      asked = { ...options, token };
      pass("sign-in", "the link's token exchanged for an access token");
    }
  }
  try {
    return await ask(kind, url, heldVersion, asked);
  } catch (error) {
    if (!(error instanceof SignInNeeded)) throw error;
    pass(kind, `${error.status}: signing in again`);
    server ??= await signingIn(() => signInServer(origin, fetcher));
    const token = await signingIn(() => signInAgain(server!, link?.account, fetcher));
    pass("sign-in", "signed in with an authorization code and PKCE S256");
    return ask(kind, url, heldVersion, { ...options, token });
  }
}

/** The server wants the person signed in (again): 401 or 403. */
class SignInNeeded extends StepFailure {
  constructor(
    kind: "restore" | "updates",
    readonly status: number,
  ) {
    super(kind, `the server answered ${status}: the device would ask the person to sign in again.`);
  }
}

/** Restore or updates for the one app; undefined for an update the server does not offer. */
async function ask(
  kind: "restore" | "updates",
  url: string,
  heldVersion: string | undefined,
  options: DeviceOptions,
): Promise<Served | undefined> {
  const app = {
    appleItemId: options.appleItemId,
    ...(heldVersion ? { appleVersionId: heldVersion } : {}),
  };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await send(
    url,
    {
      method: "POST",
      headers,
      body: JSON.stringify({
        apps: [app],
        platform: options.platform ?? "iOS",
        osVersion: options.osVersion ?? "18.2",
      }),
    },
    options,
  ).catch((error: unknown) => {
    throw new StepFailure(kind, `the ${kind} request failed: ${(error as Error).message}`);
  });
  if (response.status === 401 || response.status === 403)
    throw new SignInNeeded(kind, response.status);
  if (response.status !== 200)
    throw new StepFailure(kind, `the server answered ${response.status}.`);
  const body = await json(response, kind);
  const items = body[kind === "restore" ? "restores" : "updates"];
  const failures = Array.isArray(body.failures) ? body.failures : [];
  const failure = failures.find(
    (entry: { appleItemId?: unknown }) => entry?.appleItemId === options.appleItemId,
  ) as { failure?: { code?: unknown; description?: unknown } } | undefined;
  if (failure) {
    throw new StepFailure(
      kind,
      `the server reports the app unavailable (${String(failure.failure?.code)}: ${String(failure.failure?.description)}).`,
    );
  }
  if (!Array.isArray(items))
    throw new StepFailure(
      kind,
      `the answer has no ${kind === "restore" ? "restores" : "updates"} list.`,
    );
  const item = items.find(
    (entry: { appleItemId?: unknown }) => entry?.appleItemId === options.appleItemId,
  ) as Partial<Served> | undefined;
  if (!item) {
    if (kind === "updates") return undefined;
    throw new StepFailure(kind, "the app is neither among the restores nor among the failures.");
  }
  for (const field of [
    "appleVersionId",
    "alternativeDistributionPackage",
    "installVerificationToken",
  ] as const) {
    if (typeof item[field] !== "string" || item[field] === "")
      throw new StepFailure(kind, `the app's ${field} is missing.`);
  }
  return item as Served;
}

async function checkToken(served: Served, options: DeviceOptions): Promise<InstallTokenClaims> {
  let claims: InstallTokenClaims;
  try {
    const publicKey =
      typeof options.publicKey === "string"
        ? options.publicKey
        : await options.publicKey(keyIdOf(served.installVerificationToken));
    claims = await verifyInstallVerificationToken(served.installVerificationToken, publicKey, {
      ...(options.keyId ? { keyId: options.keyId } : {}),
      ...(options.issuer ? { appleItemId: options.issuer } : {}),
      installId: served.appleItemId,
      versionId: served.appleVersionId,
    });
  } catch (error) {
    throw new StepFailure(
      "token",
      `the install verification token is refused: ${(error as Error).message}`,
    );
  }
  const seen = options.seenNonces;
  if (seen?.has(claims.nonce))
    throw new StepFailure("token", "the token's nonce was seen before: a replay.");
  seen?.add(claims.nonce);
  return claims;
}

/** The `kid` in a token's header, unverified: only to find the key that verifies it. */
function keyIdOf(token: string): string {
  try {
    const { kid } = decodeProtectedHeader(token);
    if (typeof kid === "string") return kid;
  } catch {
    // Reported below.
  }
  throw new StepFailure("token", "the install verification token has no readable kid.");
}

async function fetchPackageFile(
  base: URL,
  name: string,
  step: DeviceStep["step"],
  options: DeviceOptions,
): Promise<Response> {
  const response = await send(new URL(name, base).href, {}, options).catch((error: unknown) => {
    throw new StepFailure(step, `${name} could not be fetched: ${(error as Error).message}`);
  });
  if (response.status !== 200) throw new StepFailure(step, `${name} answered ${response.status}.`);
  return response;
}

async function readManifest(
  base: URL,
  served: Served,
  claims: InstallTokenClaims,
  options: DeviceOptions,
): Promise<PackageManifest> {
  const response = await fetchPackageFile(base, "manifest.json", "manifest", options);
  let manifest: PackageManifest;
  try {
    manifest = parsePackageManifest(await response.text());
  } catch (error) {
    throw new StepFailure("manifest", (error as Error).message);
  }
  const mismatch = [
    ["appleItemId", manifest.appleItemId, served.appleItemId],
    ["appleVersionId", manifest.raw.appleVersionId, served.appleVersionId],
    ["bundleId (the token's bid)", manifest.bundleId, claims.bid],
  ].find(([, actual, expected]) => actual !== expected);
  if (mismatch) {
    throw new StepFailure(
      "manifest",
      `the manifest's ${String(mismatch[0])} is ${JSON.stringify(mismatch[1])}, expected ${JSON.stringify(mismatch[2])}.`,
    );
  }
  return manifest;
}

async function readSignature(base: URL, options: DeviceOptions): Promise<void> {
  const response = await fetchPackageFile(base, "signature", "signature", options);
  if ((await response.arrayBuffer()).byteLength === 0)
    throw new StepFailure("signature", "the signature is empty.");
}

/** The variant for this device class (an iPad takes an iPad variant, else an iPhone one). */
async function readVariant(base: URL, manifest: PackageManifest, options: DeviceOptions) {
  const wanted = options.platform === "iPadOS" ? ["iPad", "iPhone"] : ["iPhone"];
  const targets = (asset: ManifestAsset) => {
    const raw = (
      manifest.raw.variants as Array<{
        publicId?: string;
        installTargets?: Array<{ device?: string }>;
      }>
    ).find((entry) => entry.publicId === asset.publicId);
    return (raw?.installTargets ?? []).map((target) => target.device);
  };
  const asset =
    wanted
      .map((device) => manifest.variants.find((variant) => targets(variant).includes(device)))
      .find(Boolean) ?? (manifest.variants.length === 1 ? manifest.variants[0] : undefined);
  if (!asset)
    throw new StepFailure("variant", `no variant in the manifest installs on ${wanted[0]}.`);
  const response = await fetchPackageFile(base, asset.assetPath, "variant", options);
  let bytes = 0;
  try {
    await response
      .body!.pipeThrough(verifiedAsset(asset))
      .pipeTo(new WritableStream({ write: (chunk) => void (bytes += chunk.byteLength) }));
  } catch (error) {
    throw new StepFailure("variant", `${asset.assetPath}: ${(error as Error).message}`);
  }
  return { asset, bytes };
}
