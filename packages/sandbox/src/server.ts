import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPair, inspectKey, toPublicKeyPem } from "@asc-kit/pem";
import { importSPKI } from "jose";
import { authenticate } from "./auth.js";
import { domainRoutes } from "./domains.js";
import {
  ApiError,
  allowQuery,
  keyFields,
  methodNotAllowed,
  notFound,
  pageOf,
  parameterError,
  parseJsonBody,
  readFields,
  pick,
  selfLink,
} from "./http.js";
import { loadData, saveData } from "./state.js";
import type { RegisteredApiKey, SandboxData, StoredDistributionKey } from "./state.js";

/** A failure the sandbox can inject. `reset-*` drop the connection; `slow` waits `slowMs`. */
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
  | "slow";

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

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Keep state in this JSON file (written atomically); default: in memory only. */
  dataFile?: string;
  /** App IDs that exist. Default `["6476788026", "6476788027", "6476788028"]`. */
  apps?: readonly string[];
  /** More API keys to accept, e.g. an individual key or one whose role may not manage keys. */
  apiKeys?: readonly RegisteredApiKey[];
  /** Requests per key per rolling hour before 429. Default 3,500. */
  hourlyRequestLimit?: number;
  /** Sent with a 429 when set, in seconds. Apple documents none. */
  retryAfterSeconds?: number;
  faults?: FaultOptions;
  /** The clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** What the sandbox counts, for tests that check what was applied (keys and domains). */
export interface SandboxStats {
  requests: number;
  /** Distinct tokens accepted: how many signatures the clients made. */
  tokens: number;
  creates: number;
  deletes: number;
  faults: number;
}

/** A running sandbox. */
export interface Sandbox {
  /** The base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  /** A throwaway team API key registered with the admin role. */
  credentials: { keyId: string; issuerId: string; privateKey: string };
  stats: SandboxStats;
  /** Replaces the fault rates. */
  setFaults(faults: FaultOptions): void;
  /** Queues faults for the next requests, one each, in order. */
  injectFaults(...kinds: FaultKind[]): void;
  /** Registers another API key. */
  addApiKey(apiKey: RegisteredApiKey): void;
  /** A copy of the stored alternative distribution keys. */
  keys(): StoredDistributionKey[];
  stop(): Promise<void>;
}

const defaultApps = ["6476788026", "6476788027", "6476788028"];
const maximumBodyBytes = 64 * 1024;

/**
 * Starts a local server that behaves like App Store Connect's alternative distribution key
 * endpoints, with Apple's authentication rules, validation, paging, rate limits and optional
 * fault injection. For demos, tests and CI without an Apple account.
 *
 * @example
 * ```ts
 * import { startSandbox } from "@asc-kit/sandbox";
 * import { createAppStoreConnectClient } from "@asc-kit/core";
 *
 * const sandbox = await startSandbox();
 * const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
 * // …
 * await sandbox.stop();
 * ```
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? Date.now;
  const data = (await loadData(options.dataFile)) ?? (await freshData(options));
  for (const apiKey of options.apiKeys ?? []) {
    if (!data.apiKeys.some((known) => known.keyId === apiKey.keyId)) data.apiKeys.push(apiKey);
  }
  const persist = () => (options.dataFile ? saveData(options.dataFile, data) : Promise.resolve());
  await persist();

  const hourlyLimit = options.hourlyRequestLimit ?? 3500;
  const requestTimes = new Map<string, number[]>();
  const importedKeys = new Map<string, Promise<CryptoKey>>();
  const importKey = (apiKey: RegisteredApiKey) => {
    let imported = importedKeys.get(apiKey.keyId);
    if (!imported)
      importedKeys.set(apiKey.keyId, (imported = importSPKI(apiKey.publicKeyPem, "ES256")));
    return imported;
  };
  let faults: FaultOptions = options.faults ?? {};
  const queuedFaults: FaultKind[] = [];
  const stats: SandboxStats = { requests: 0, tokens: 0, creates: 0, deletes: 0, faults: 0 };
  const acceptedTokens = new Set<string>();
  let baseUrl = "";

  function nextFault(): FaultKind | undefined {
    const queued = queuedFaults.shift();
    if (queued) return queued;
    const random = faults.random ?? Math.random;
    if (faults.resetBeforeRate && random() < faults.resetBeforeRate) return "reset-before";
    if (faults.serverErrorRate && random() < faults.serverErrorRate) {
      return (["500", "502", "503"] as const)[Math.floor(random() * 3)];
    }
    if (faults.resetAfterRate && random() < faults.resetAfterRate) return "reset-after";
    return undefined;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    stats.requests++;
    const url = new URL(request.url ?? "/", baseUrl);
    const method = request.method ?? "GET";
    const body = await readBody(request);
    if (faults.latencyMs) await delay(faults.latencyMs);
    const fault = nextFault();
    if (fault) stats.faults++;
    if (fault === "reset-before") return void request.socket.destroy();
    if (fault === "slow") await delay(faults.slowMs ?? 5000);

    const headers: Record<string, string> = {};
    let status: number;
    let payload: unknown;
    try {
      const auth = await authenticate(
        request.headers.authorization,
        data.apiKeys,
        Math.floor(now() / 1000),
        importKey,
      );
      if (!auth.ok) {
        throw new ApiError(
          401,
          "NOT_AUTHORIZED",
          "Authentication credentials are missing or invalid.",
          auth.detail,
        );
      }
      acceptedTokens.add(request.headers.authorization!);
      stats.tokens = acceptedTokens.size;
      const remaining = spendBudget(auth.apiKey.keyId);
      headers["x-rate-limit"] =
        `user-hour-lim:${hourlyLimit};user-hour-rem:${Math.max(0, remaining)};`;
      if (remaining < 0 || fault === "429") {
        if (options.retryAfterSeconds !== undefined)
          headers["retry-after"] = String(options.retryAfterSeconds);
        throw new ApiError(
          429,
          "RATE_LIMIT_EXCEEDED",
          "The request rate limit has been reached.",
          `This API key has used its ${hourlyLimit} requests for the rolling hour.`,
        );
      }
      if (fault === "html")
        return sendRaw(
          response,
          502,
          "text/html",
          "<html><body><h1>502 Bad Gateway</h1></body></html>",
        );
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
      [status, payload] = await route(method, url, body);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status = error.status;
      payload = {
        errors: [
          {
            id: randomUUID(),
            status: String(error.status),
            code: error.code,
            title: error.title,
            detail: error.detail,
            ...(error.source ? { source: error.source } : {}),
          },
        ],
      };
    }
    if (fault === "reset-after") return void request.socket.destroy();
    if (fault === "truncated") {
      const text = JSON.stringify(payload);
      response.writeHead(status, {
        "content-type": "application/json",
        "content-length": String(text.length),
        ...headers,
      });
      response.write(text.slice(0, Math.floor(text.length / 2)));
      return void request.socket.destroy();
    }
    if (payload === undefined) {
      response.writeHead(status, headers);
      response.end();
    } else {
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(payload));
    }
  }

  /** Counts a request against the key's rolling hour; returns what is left (negative: over). */
  function spendBudget(keyId: string): number {
    const hourAgo = now() - 3_600_000;
    let times = requestTimes.get(keyId);
    if (!times) requestTimes.set(keyId, (times = []));
    // Times are in order: drop the expired ones from the front.
    let expired = 0;
    while (expired < times.length && times[expired]! <= hourAgo) expired++;
    if (expired > 0) times.splice(0, expired);
    times.push(now());
    return hourlyLimit - times.length;
  }

  async function route(method: string, url: URL, body: string): Promise<[number, unknown]> {
    const segments = url.pathname.replace(/\/+$/, "").split("/").slice(1);
    const [version, collection, id, relation, relationName, extra] = segments;
    if (
      version === "v1" &&
      collection === "alternativeDistributionKeys" &&
      relation === undefined
    ) {
      if (id === undefined) {
        if (method === "GET") return [200, listKeys(url)];
        if (method === "POST") return [201, await createKey(body)];
      } else {
        if (method === "GET") return [200, single(findKey(id), url)];
        if (method === "DELETE") {
          allowQuery(url, []);
          await deleteKey(id);
          return [204, undefined];
        }
      }
      throw methodNotAllowed(method, url);
    }
    if (
      version === "v1" &&
      collection === "alternativeDistributionDomains" &&
      relation === undefined
    ) {
      return domains.route(method, url, id, body);
    }
    if (version === "v1" && collection === "apps" && id !== undefined && extra === undefined) {
      const related = relation === "alternativeDistributionKey" && relationName === undefined;
      const linkage = relation === "relationships" && relationName === "alternativeDistributionKey";
      if (related || linkage) {
        if (method !== "GET") throw methodNotAllowed(method, url);
        if (!data.apps.includes(id)) throw notFound("apps", id);
        const key = data.keys.find((candidate) => candidate.appId === id);
        if (!key) {
          throw new ApiError(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            `The app with id '${id}' has no alternative distribution key.`,
          );
        }
        if (related) return [200, single(key, url)];
        allowQuery(url, []);
        return [
          200,
          { data: { type: "alternativeDistributionKeys", id: key.id }, links: { self: url.href } },
        ];
      }
    }
    throw new ApiError(
      404,
      "NOT_FOUND",
      "The specified resource does not exist",
      `The path ${url.pathname} does not match a resource type of this sandbox.`,
    );
  }

  function listKeys(url: URL) {
    allowQuery(url, ["exists[app]", "fields[alternativeDistributionKeys]", "limit", "cursor"]);
    const fields = readFields(url, "alternativeDistributionKeys", keyFields);
    const existsApp = url.searchParams.get("exists[app]");
    if (existsApp !== null && existsApp !== "true" && existsApp !== "false") {
      throw parameterError(
        "exists[app]",
        `'${existsApp}' is not a valid value for 'exists[app]'; use true or false.`,
      );
    }
    const matching = data.keys.filter(
      (key) => existsApp === null || (existsApp === "true") === (key.appId !== undefined),
    );
    return pageOf(url, matching, (key) => resource(key, fields));
  }

  function single(key: StoredDistributionKey, url: URL) {
    allowQuery(url, ["fields[alternativeDistributionKeys]"]);
    return {
      data: resource(key, readFields(url, "alternativeDistributionKeys", keyFields)),
      links: { self: selfLink(url) },
    };
  }

  function resource(key: StoredDistributionKey, fields: ReadonlySet<string> = new Set(keyFields)) {
    return {
      type: "alternativeDistributionKeys",
      id: key.id,
      attributes: pick({ publicKey: key.publicKey }, fields),
      links: { self: `${baseUrl}/v1/alternativeDistributionKeys/${key.id}` },
    };
  }

  async function createKey(body: string) {
    const document = parseJsonBody(body);
    const resourceData = (document as { data?: unknown } | null)?.data as
      Record<string, unknown> | undefined;
    if (typeof resourceData !== "object" || resourceData === null) {
      throw new ApiError(
        422,
        "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
        "A required value is missing.",
        "The request body must have a data object.",
        { pointer: "/data" },
      );
    }
    if (resourceData.type !== "alternativeDistributionKeys") {
      throw new ApiError(
        400,
        "ENTITY_ERROR.TYPE.INVALID",
        "The resource type is not valid.",
        `The type '${String(resourceData.type)}' is not 'alternativeDistributionKeys'.`,
        { pointer: "/data/type" },
      );
    }
    const attributes = resourceData.attributes as { publicKey?: unknown } | undefined;
    if (typeof attributes?.publicKey !== "string") {
      throw new ApiError(
        422,
        "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
        "A required attribute is missing.",
        "publicKey is required.",
        {
          pointer: "/data/attributes/publicKey",
        },
      );
    }
    const publicKey = await acceptPublicKey(attributes.publicKey);
    const app = (
      resourceData.relationships as
        { app?: { data?: { type?: unknown; id?: unknown } } } | undefined
    )?.app?.data;
    let appId: string | undefined;
    if (resourceData.relationships !== undefined) {
      if (app?.type !== "apps" || typeof app.id !== "string") {
        throw new ApiError(
          400,
          "ENTITY_ERROR.RELATIONSHIP.INVALID",
          "The relationship is not valid.",
          "relationships.app.data must be { type: 'apps', id }.",
          {
            pointer: "/data/relationships/app/data",
          },
        );
      }
      if (!data.apps.includes(app.id)) {
        // The excerpt declares no 404 for POST: an unknown related app is an invalid entity.
        throw new ApiError(
          422,
          "ENTITY_ERROR.RELATIONSHIP.INVALID",
          "The relationship is not valid.",
          `There is no app with id '${app.id}' in this account.`,
          { pointer: "/data/relationships/app/data/id" },
        );
      }
      appId = app.id;
    }
    const existing = data.keys.find((key) => key.appId === appId);
    if (existing) {
      throw new ApiError(
        409,
        "ENTITY_ERROR.ALREADY_EXISTS",
        "The resource already exists.",
        appId
          ? `The app ${appId} already has an alternative distribution key (${existing.id}).`
          : `The account already has an alternative distribution key (${existing.id}).`,
      );
    }
    const key: StoredDistributionKey = { id: randomUUID(), publicKey, ...(appId ? { appId } : {}) };
    data.keys.push(key);
    stats.creates++;
    await persist();
    return {
      data: resource(key),
      links: { self: `${baseUrl}/v1/alternativeDistributionKeys/${key.id}` },
    };
  }

  async function deleteKey(id: string) {
    const index = data.keys.findIndex((key) => key.id === id);
    if (index === -1) throw notFound("alternativeDistributionKeys", id);
    data.keys.splice(index, 1);
    stats.deletes++;
    await persist();
  }

  function findKey(id: string): StoredDistributionKey {
    const key = data.keys.find((candidate) => candidate.id === id);
    if (!key) throw notFound("alternativeDistributionKeys", id);
    return key;
  }

  const domains = domainRoutes({
    list: (data.domains ??= []),
    baseUrl: () => baseUrl,
    persist,
    pageOf,
    stats,
  });

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      response.writeHead(500, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          errors: [
            {
              status: "500",
              code: "UNEXPECTED_ERROR",
              title: "An unexpected error occurred.",
              detail: String(error),
            },
          ],
        }),
      );
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  const firstKey = data.apiKeys[0]!;

  return {
    url: baseUrl,
    credentials: {
      keyId: firstKey.keyId,
      issuerId: firstKey.issuerId!,
      privateKey: data.privateKeyPem,
    },
    stats,
    setFaults(next) {
      faults = next;
    },
    injectFaults(...kinds) {
      queuedFaults.push(...kinds);
    },
    addApiKey(apiKey) {
      data.apiKeys.push(apiKey);
    },
    keys: () => data.keys.map((key) => ({ ...key })),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function freshData(options: SandboxOptions): Promise<SandboxData> {
  const { privateKeyPem, publicKeyPem } = await generateKeyPair();
  return {
    apiKeys: [{ keyId: randomKeyId(), issuerId: randomUUID(), publicKeyPem, role: "admin" }],
    privateKeyPem,
    apps: [...(options.apps ?? defaultApps)],
    keys: [],
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

/** Accepts what App Store Connect takes: an EC P-256 public key as SPKI PEM (single-line too). */
async function acceptPublicKey(value: string): Promise<string> {
  const invalid = (detail: string) =>
    new ApiError(422, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid.", detail, {
      pointer: "/data/attributes/publicKey",
    });
  try {
    const info = await inspectKey(value);
    if (info.kind !== "public" || info.format !== "spki")
      throw invalid(
        "publicKey must be a public key as PEM SubjectPublicKeyInfo ('BEGIN PUBLIC KEY').",
      );
    if (info.type !== "EC" || info.curve !== "P-256")
      throw invalid("publicKey must be an EC key on P-256.");
    return await toPublicKeyPem(value);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalid(`publicKey is not a valid public key: ${(error as Error).message}`);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maximumBodyBytes) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function sendRaw(response: ServerResponse, status: number, type: string, text: string): void {
  response.writeHead(status, { "content-type": type });
  response.end(text);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
