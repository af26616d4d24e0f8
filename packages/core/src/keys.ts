import { fingerprint, toPublicKeyPem } from "@asc-kit/pem";
import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/app-store-connect.js";
import { collectItems } from "./paginate.js";
import { outcomeUnknown, removeConfirmed, requireId, settle } from "./result.js";
import type { Result } from "./result.js";

export type { Result } from "./result.js";

export type AlternativeDistributionKey = components["schemas"]["AlternativeDistributionKey"];
export type AlternativeDistributionKeyResponse =
  components["schemas"]["AlternativeDistributionKeyResponse"];

type AnyClient = Client<paths>;

/**
 * Uploads an alternative distribution key: for the whole account, or for one app with `appId`.
 * The key runs through `toPublicKeyPem` first, so a private key is reduced to its public key,
 * and a corrupt, RSA or wrong-curve key is refused locally with a `PemError`: nothing is sent.
 *
 * If the request gets no answer, or a 5xx, the key may have been stored all the same: the
 * helper then reads the keys back and returns the stored key when it finds it, so a retry never
 * adds a second one.
 *
 * @example
 * ```ts
 * import { addAlternativeDistributionKey } from "@asc-kit/core";
 *
 * const { data, error } = await addAlternativeDistributionKey(client, { publicKey: pem });
 * if (error) console.error(error.message, error.hint);
 * else console.log("Key id:", data.data.id);
 * ```
 */
export async function addAlternativeDistributionKey(
  client: AnyClient,
  input: { publicKey: string | Uint8Array; appId?: string },
): Promise<Result<AlternativeDistributionKeyResponse>> {
  if (typeof input !== "object" || input === null) {
    throw new TypeError("addAlternativeDistributionKey needs { publicKey, appId? }.");
  }
  if (input.appId !== undefined) requireAppId(input.appId);
  const publicKey = await toPublicKeyPem(input.publicKey);
  const body: paths["/v1/alternativeDistributionKeys"]["post"]["requestBody"]["content"]["application/json"] =
    {
      data: {
        type: "alternativeDistributionKeys",
        attributes: { publicKey },
        ...(input.appId
          ? { relationships: { app: { data: { type: "apps", id: input.appId } } } }
          : {}),
      },
    };
  const result = await settle("POST", "/v1/alternativeDistributionKeys", () =>
    client.POST("/v1/alternativeDistributionKeys", { body }),
  );
  if (!result.error || !outcomeUnknown(result.error)) return result;
  // The key may have been stored before the connection failed: look for it before anyone retries.
  const stored = await findStoredKey(client, publicKey, input.appId);
  return stored ?? result;
}

/**
 * Lists the account's alternative distribution keys, paging through all of them. `app`:
 * `"with"` keeps app-specific keys, `"without"` the account-wide key, `"any"` (default) both.
 *
 * @example
 * ```ts
 * import { listAlternativeDistributionKeys } from "@asc-kit/core";
 *
 * const { data } = await listAlternativeDistributionKeys(client, { app: "with" });
 * ```
 */
export async function listAlternativeDistributionKeys(
  client: AnyClient,
  options: { app?: "any" | "with" | "without"; limit?: number } = {},
): Promise<Result<AlternativeDistributionKey[]>> {
  const app = options.app ?? "any";
  if (app !== "any" && app !== "with" && app !== "without") {
    throw new TypeError('app must be "any", "with" or "without".');
  }
  const limit = options.limit ?? 200;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new TypeError("limit must be a whole number from 1 to 200.");
  }
  const query = { limit, ...(app === "any" ? {} : { "exists[app]": app === "with" }) };
  return collectItems(client, "/v1/alternativeDistributionKeys", { params: { query } });
}

/**
 * Reads one alternative distribution key.
 *
 * @example
 * ```ts
 * const { data } = await getAlternativeDistributionKey(client, "52c5cb04-1163-4a30-ad4f-a3433cd6a4f6");
 * ```
 */
export async function getAlternativeDistributionKey(
  client: AnyClient,
  id: string,
): Promise<Result<AlternativeDistributionKeyResponse>> {
  requireId(id, "id");
  return settle("GET", `/v1/alternativeDistributionKeys/${id}`, () =>
    client.GET("/v1/alternativeDistributionKeys/{id}", { params: { path: { id } } }),
  );
}

/**
 * Removes an alternative distribution key. If the request gets no answer, or a 5xx, the helper
 * reads the key back: when it is gone, the removal is reported as done.
 *
 * @example
 * ```ts
 * const { error } = await removeAlternativeDistributionKey(client, id);
 * ```
 */
export async function removeAlternativeDistributionKey(
  client: AnyClient,
  id: string,
): Promise<Result<null>> {
  requireId(id, "id");
  return removeConfirmed(
    `/v1/alternativeDistributionKeys/${id}`,
    () => client.DELETE("/v1/alternativeDistributionKeys/{id}", { params: { path: { id } } }),
    () => getAlternativeDistributionKey(client, id),
  );
}

/**
 * Reads the key that belongs to one app (a 404 error when the app has none).
 *
 * @example
 * ```ts
 * const { data } = await getAppAlternativeDistributionKey(client, "6476788026");
 * ```
 */
export async function getAppAlternativeDistributionKey(
  client: AnyClient,
  appId: string,
): Promise<Result<AlternativeDistributionKeyResponse>> {
  requireAppId(appId);
  return settle("GET", `/v1/apps/${appId}/alternativeDistributionKey`, () =>
    client.GET("/v1/apps/{id}/alternativeDistributionKey", { params: { path: { id: appId } } }),
  );
}

async function findStoredKey(
  client: AnyClient,
  publicKey: string,
  appId: string | undefined,
): Promise<Result<AlternativeDistributionKeyResponse> | undefined> {
  const wanted = await fingerprint(publicKey);
  const listed = await listAlternativeDistributionKeys(client, { app: appId ? "with" : "without" });
  for (const key of listed.data ?? []) {
    const stored = key.attributes?.publicKey;
    if (stored && (await fingerprint(stored).catch(() => undefined)) === wanted) {
      if (appId) {
        const owner = await getAppAlternativeDistributionKey(client, appId);
        if (owner.data?.data.id !== key.id) continue;
      }
      return { data: { data: key, links: { self: key.links?.self ?? "" } }, response: undefined };
    }
  }
  return undefined;
}

function requireAppId(value: unknown): void {
  if (typeof value !== "string" || !/^\d+$/.test(value)) {
    throw new TypeError(
      'appId must be the app\'s Apple ID, a string of digits such as "6476788026".',
    );
  }
}
