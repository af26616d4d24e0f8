import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/app-store-connect.js";
import { collectItems } from "./paginate.js";
import { outcomeUnknown, requireId, settle } from "./result.js";
import type { Result } from "./result.js";

export type AlternativeDistributionPackage =
  components["schemas"]["AlternativeDistributionPackage"];
export type AlternativeDistributionPackageResponse =
  components["schemas"]["AlternativeDistributionPackageResponse"];
export type AlternativeDistributionPackageVersion =
  components["schemas"]["AlternativeDistributionPackageVersion"];
export type AlternativeDistributionPackageVariant =
  components["schemas"]["AlternativeDistributionPackageVariant"];
export type AlternativeDistributionPackageDelta =
  components["schemas"]["AlternativeDistributionPackageDelta"];

/** A package version with every variant and delta it has, each with its download `url`. */
export interface AlternativeDistributionPackageVersionContents {
  version: AlternativeDistributionPackageVersion;
  variants: AlternativeDistributionPackageVariant[];
  deltas: AlternativeDistributionPackageDelta[];
}

type AnyClient = Client<paths>;

/**
 * Creates the alternative distribution package of an approved App Store version (one per
 * version: a second gets App Store Connect's 409). After an uncertain outcome (no answer, or a
 * 5xx) the version's package is read back, so a retry never reports a package as missing.
 *
 * @example
 * ```ts
 * import { createAlternativeDistributionPackage } from "@asc-kit/core";
 *
 * const { data, error } = await createAlternativeDistributionPackage(client, { appStoreVersionId: "an-id" });
 * ```
 */
export async function createAlternativeDistributionPackage(
  client: AnyClient,
  input: { appStoreVersionId: string },
): Promise<Result<AlternativeDistributionPackageResponse>> {
  if (typeof input !== "object" || input === null) {
    throw new TypeError("createAlternativeDistributionPackage needs { appStoreVersionId }.");
  }
  requireId(input.appStoreVersionId, "appStoreVersionId");
  const result = await settle("POST", "/v1/alternativeDistributionPackages", () =>
    client.POST("/v1/alternativeDistributionPackages", {
      body: {
        data: {
          type: "alternativeDistributionPackages",
          relationships: {
            appStoreVersion: { data: { type: "appStoreVersions", id: input.appStoreVersionId } },
          },
        },
      },
    }),
  );
  if (!result.error || !outcomeUnknown(result.error)) return result;
  const stored = await getAppStoreVersionAlternativeDistributionPackage(
    client,
    input.appStoreVersionId,
  );
  return stored.data ? stored : result;
}

/**
 * Reads an alternative distribution package (its `sourceFileChecksum`, and its versions'
 * linkage).
 *
 * @example
 * ```ts
 * import { getAlternativeDistributionPackage } from "@asc-kit/core";
 *
 * const { data } = await getAlternativeDistributionPackage(client, "a-package-id");
 * ```
 */
export async function getAlternativeDistributionPackage(
  client: AnyClient,
  id: string,
): Promise<Result<AlternativeDistributionPackageResponse>> {
  requireId(id, "id");
  return settle("GET", `/v1/alternativeDistributionPackages/${id}`, () =>
    client.GET("/v1/alternativeDistributionPackages/{id}", { params: { path: { id } } }),
  );
}

/**
 * Finds the alternative distribution package of an App Store version: 404 when it has none.
 *
 * @example
 * ```ts
 * import { getAppStoreVersionAlternativeDistributionPackage } from "@asc-kit/core";
 *
 * const { data, error } = await getAppStoreVersionAlternativeDistributionPackage(client, "a-version-id");
 * if (error?.kind === "not-found") console.log("No package yet.");
 * ```
 */
export async function getAppStoreVersionAlternativeDistributionPackage(
  client: AnyClient,
  appStoreVersionId: string,
): Promise<Result<AlternativeDistributionPackageResponse>> {
  requireId(appStoreVersionId, "appStoreVersionId");
  return settle(
    "GET",
    `/v1/appStoreVersions/${appStoreVersionId}/alternativeDistributionPackage`,
    () =>
      client.GET("/v1/appStoreVersions/{id}/alternativeDistributionPackage", {
        params: { path: { id: appStoreVersionId } },
      }),
  );
}

/**
 * Lists a package's versions, paging through all of them. `state` defaults to `"COMPLETED"`,
 * the version to distribute; `"REPLACED"` lists the superseded ones, `"any"` both.
 *
 * @example
 * ```ts
 * import { listAlternativeDistributionPackageVersions } from "@asc-kit/core";
 *
 * const { data: [current] = [] } = await listAlternativeDistributionPackageVersions(client, "a-package-id");
 * ```
 */
export async function listAlternativeDistributionPackageVersions(
  client: AnyClient,
  packageId: string,
  options: { state?: "COMPLETED" | "REPLACED" | "any" } = {},
): Promise<Result<AlternativeDistributionPackageVersion[]>> {
  requireId(packageId, "packageId");
  const state = options.state ?? "COMPLETED";
  if (state !== "COMPLETED" && state !== "REPLACED" && state !== "any") {
    throw new TypeError('state must be "COMPLETED", "REPLACED" or "any".');
  }
  return collectItems(client, "/v1/alternativeDistributionPackages/{id}/versions", {
    params: {
      path: { id: packageId },
      query: { limit: 200, ...(state === "any" ? {} : { "filter[state]": [state] }) },
    },
  });
}

/**
 * Reads a package version with every variant and delta, each with its download `url`,
 * `urlExpirationDate` and key blob: the version and its variants and deltas through their
 * paged lists (an `include` stops at 50 of each), read at once.
 *
 * @example
 * ```ts
 * import { getAlternativeDistributionPackageVersion } from "@asc-kit/core";
 *
 * const { data } = await getAlternativeDistributionPackageVersion(client, "a-version-id");
 * data?.variants.map((variant) => variant.attributes?.url);
 * ```
 */
export async function getAlternativeDistributionPackageVersion(
  client: AnyClient,
  id: string,
): Promise<Result<AlternativeDistributionPackageVersionContents>> {
  requireId(id, "id");
  const page = { params: { path: { id }, query: { limit: 200 } } };
  // The three reads at once: one round trip to Apple instead of two. The version's own answer
  // speaks first, so a version that does not exist fails as itself, not as its lists.
  const [version, variants, deltas] = await Promise.all([
    settle("GET", `/v1/alternativeDistributionPackageVersions/${id}`, () =>
      client.GET("/v1/alternativeDistributionPackageVersions/{id}", { params: { path: { id } } }),
    ),
    collectItems(client, "/v1/alternativeDistributionPackageVersions/{id}/variants", page),
    collectItems(client, "/v1/alternativeDistributionPackageVersions/{id}/deltas", page),
  ]);
  if (version.error) return version;
  if (variants.error) return variants;
  if (deltas.error) return deltas;
  return {
    data: { version: version.data.data, variants: variants.data, deltas: deltas.data },
    response: version.response,
  };
}

/**
 * Reads one variant: a complete encrypted app for one device class, its `url` and key blob.
 * Re-read it to refresh a `url` past its `urlExpirationDate`.
 *
 * @example
 * ```ts
 * import { getAlternativeDistributionPackageVariant } from "@asc-kit/core";
 *
 * const { data } = await getAlternativeDistributionPackageVariant(client, "a-variant-id");
 * ```
 */
export async function getAlternativeDistributionPackageVariant(
  client: AnyClient,
  id: string,
): Promise<Result<AlternativeDistributionPackageVariant>> {
  requireId(id, "id");
  const result = await settle("GET", `/v1/alternativeDistributionPackageVariants/${id}`, () =>
    client.GET("/v1/alternativeDistributionPackageVariants/{id}", { params: { path: { id } } }),
  );
  return result.error ? result : { data: result.data.data, response: result.response };
}

/**
 * Reads one delta: an encrypted update from an earlier version, its `url` and key blob.
 *
 * @example
 * ```ts
 * import { getAlternativeDistributionPackageDelta } from "@asc-kit/core";
 *
 * const { data } = await getAlternativeDistributionPackageDelta(client, "a-delta-id");
 * ```
 */
export async function getAlternativeDistributionPackageDelta(
  client: AnyClient,
  id: string,
): Promise<Result<AlternativeDistributionPackageDelta>> {
  requireId(id, "id");
  const result = await settle("GET", `/v1/alternativeDistributionPackageDeltas/${id}`, () =>
    client.GET("/v1/alternativeDistributionPackageDeltas/{id}", { params: { path: { id } } }),
  );
  return result.error ? result : { data: result.data.data, response: result.response };
}
