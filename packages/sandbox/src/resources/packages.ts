import { ApiError, notFound, pageOf, parseJsonBody, selfLink } from "../http.js";
import type { RouteRequest } from "../router.js";
import type {
  StoredAppStoreVersion,
  StoredPackage,
  StoredPackageAsset,
  StoredPackageVersion,
} from "../state.js";
import type { ResourceObject } from "../query.js";
import type { ResourceFamily } from "./context.js";

/** The App Store version states Apple lets a package be created from (approved versions). */
const eligibleStates = new Set([
  "READY_FOR_DISTRIBUTION",
  "PENDING_DEVELOPER_RELEASE",
  "PENDING_APPLE_RELEASE",
]);

/** How long a download link lives; Apple documents no figure, only `urlExpirationDate`. */
const urlLifetimeMs = 60 * 60 * 1000;

const assetTypes = {
  variant: "alternativeDistributionPackageVariants",
  delta: "alternativeDistributionPackageDeltas",
} as const;

/**
 * Alternative distribution packages: created for an approved App Store version, with one
 * `COMPLETED` version with a variant per install target at once (Apple builds them later; the sandbox does not
 * make tests wait), read by id, by version and through the App Store version.
 */
export const packageRoutes: ResourceFamily = (router, context) => {
  const data = context.data;
  const packages = (data.packages ??= []);
  const versions = (data.packageVersions ??= []);
  const assets = (data.packageAssets ??= []);
  const appStoreVersions = (data.appStoreVersions ??= []);
  const base = () => context.baseUrl;

  const findPackage = (id: string) =>
    packages.find((item) => item.id === id) ??
    fail(notFound("alternativeDistributionPackages", id));
  const findVersion = (id: string) =>
    versions.find((item) => item.id === id) ??
    fail(notFound("alternativeDistributionPackageVersions", id));
  const findAsset = (kind: "variant" | "delta", id: string) =>
    assets.find((item) => item.id === id && item.kind === kind) ??
    fail(notFound(assetTypes[kind], id));
  const packageOfVersion = (appStoreVersionId: string) => {
    if (!appStoreVersions.some((version) => version.id === appStoreVersionId)) {
      throw notFound("appStoreVersions", appStoreVersionId);
    }
    return (
      packages.find((item) => item.appStoreVersionId === appStoreVersionId) ??
      fail(
        new ApiError(
          404,
          "NOT_FOUND",
          "The specified resource does not exist",
          `The App Store version '${appStoreVersionId}' has no alternative distribution package.`,
        ),
      )
    );
  };

  const packageResource = (item: StoredPackage) => ({
    type: "alternativeDistributionPackages",
    id: item.id,
    attributes: {
      sourceFileChecksum: { file: { hash: item.sourceFileChecksum, algorithm: "SHA_256" } },
    },
    relationships: {
      versions: {
        links: {
          self: `${base()}/v1/alternativeDistributionPackages/${item.id}/relationships/versions`,
          related: `${base()}/v1/alternativeDistributionPackages/${item.id}/versions`,
        },
        data: versions
          .filter((version) => version.packageId === item.id)
          .map((version) => linkage("alternativeDistributionPackageVersions", version.id)),
      },
    },
    links: { self: `${base()}/v1/alternativeDistributionPackages/${item.id}` },
  });
  const versionResource = (item: StoredPackageVersion) => {
    const self = `${base()}/v1/alternativeDistributionPackageVersions/${item.id}`;
    const assetsOf = (kind: "variant" | "delta") =>
      assets
        .filter((asset) => asset.kind === kind && asset.packageVersionId === item.id)
        .map((asset) => linkage(assetTypes[kind], asset.id));
    return {
      type: "alternativeDistributionPackageVersions",
      id: item.id,
      attributes: {
        ...context.link(`/assets/${item.id}/alternative-distribution-package.zip`, urlLifetimeMs),
        version: item.version,
        fileChecksum: item.fileChecksum,
        state: item.state,
      },
      relationships: {
        variants: {
          links: { self: `${self}/relationships/variants`, related: `${self}/variants` },
          data: assetsOf("variant"),
        },
        deltas: {
          links: { self: `${self}/relationships/deltas`, related: `${self}/deltas` },
          data: assetsOf("delta"),
        },
        alternativeDistributionPackage: {
          data: { type: "alternativeDistributionPackages", id: item.packageId },
        },
      },
      links: { self },
    };
  };
  const assetResource = (item: StoredPackageAsset) => ({
    type: assetTypes[item.kind],
    id: item.id,
    attributes: {
      ...context.link(
        `/assets/${item.packageVersionId}/${item.kind}/${item.id}.ipa`,
        urlLifetimeMs,
      ),
      alternativeDistributionKeyBlob: item.keyBlob,
      fileChecksum: item.fileChecksum,
    },
    links: { self: `${base()}/v1/${assetTypes[item.kind]}/${item.id}` },
  });
  const finder =
    <T extends { id: string }>(list: () => readonly T[], build: (item: T) => ResourceObject) =>
    (id: string) => {
      const item = list().find((candidate) => candidate.id === id);
      return item && build(item);
    };
  context.resources.define(
    "alternativeDistributionPackages",
    finder(() => packages, packageResource),
  );
  context.resources.define(
    "alternativeDistributionPackageVersions",
    finder(() => versions, versionResource),
  );
  for (const kind of ["variant", "delta"] as const) {
    context.resources.define(
      assetTypes[kind],
      finder(() => assets.filter((asset) => asset.kind === kind), assetResource),
    );
  }

  router
    .on("POST", "/v1/alternativeDistributionPackages", async ({ body }) => {
      const appStoreVersion = readCreateRequest(body, appStoreVersions);
      const existing = packages.find((item) => item.appStoreVersionId === appStoreVersion.id);
      if (existing) {
        throw new ApiError(
          409,
          "ENTITY_ERROR.ALREADY_EXISTS",
          "The resource already exists.",
          `The App Store version ${appStoreVersion.id} already has an alternative distribution package (${existing.id}).`,
        );
      }
      const built = build(appStoreVersion, context.installTargets);
      await context.commit(() => {
        packages.push(built.package);
        versions.push(built.version);
        assets.push(...built.assets);
        return () => {
          packages.splice(packages.indexOf(built.package), 1);
          versions.splice(versions.indexOf(built.version), 1);
          for (const asset of built.assets) assets.splice(assets.indexOf(asset), 1);
        };
      });
      context.stats.creates++;
      context.notifier.emit({
        kind: "package-version-created",
        appId: appStoreVersion.appId,
        packageId: built.package.id,
        versionId: built.version.id,
        versionNumber: built.version.version,
      });
      const self = `${base()}/v1/alternativeDistributionPackages/${built.package.id}`;
      return [201, { data: packageResource(built.package), links: { self } }];
    })
    .on("GET", "/v1/alternativeDistributionPackages/{id}", ({ url, params }) => [
      200,
      { data: packageResource(findPackage(params.id!)), links: { self: selfLink(url) } },
    ])
    .on("GET", "/v1/alternativeDistributionPackages/{id}/versions", ({ url, params }) => {
      const item = findPackage(params.id!);
      // Its values are checked against the excerpt's before the handler runs.
      const states = url.searchParams.get("filter[state]")?.split(",");
      const matching = versions.filter(
        (version) => version.packageId === item.id && (!states || states.includes(version.state)),
      );
      return [200, pageOf(url, matching, versionResource)];
    })
    .on(
      "GET",
      "/v1/alternativeDistributionPackages/{id}/relationships/versions",
      ({ url, params }) => {
        const item = findPackage(params.id!);
        const matching = versions.filter((version) => version.packageId === item.id);
        return [
          200,
          pageOf(url, matching, (version) =>
            linkage("alternativeDistributionPackageVersions", version.id),
          ),
        ];
      },
    )
    .on("GET", "/v1/alternativeDistributionPackageVersions/{id}", ({ url, params }) => [
      200,
      { data: versionResource(findVersion(params.id!)), links: { self: selfLink(url) } },
    ])
    .on("GET", "/v1/appStoreVersions/{id}/alternativeDistributionPackage", ({ url, params }) => {
      const item = packageOfVersion(params.id!);
      return [200, { data: packageResource(item), links: { self: selfLink(url) } }];
    })
    .on(
      "GET",
      "/v1/appStoreVersions/{id}/relationships/alternativeDistributionPackage",
      ({ url, params }) => {
        const item = packageOfVersion(params.id!);
        return [
          200,
          {
            data: linkage("alternativeDistributionPackages", item.id),
            links: { self: selfLink(url) },
          },
        ];
      },
    );

  for (const kind of ["variant", "delta"] as const) {
    const plural = `${kind}s`;
    const ofVersion = ({ params }: RouteRequest) => {
      const version = findVersion(params.id!);
      return assets.filter((asset) => asset.kind === kind && asset.packageVersionId === version.id);
    };
    router
      .on("GET", `/v1/alternativeDistributionPackageVersions/{id}/${plural}`, (request) => [
        200,
        pageOf(request.url, ofVersion(request), assetResource),
      ])
      .on(
        "GET",
        `/v1/alternativeDistributionPackageVersions/{id}/relationships/${plural}`,
        (request) => [
          200,
          pageOf(request.url, ofVersion(request), (asset) => linkage(assetTypes[kind], asset.id)),
        ],
      )
      .on("GET", `/v1/${assetTypes[kind]}/{id}`, ({ url, params }) => [
        200,
        { data: assetResource(findAsset(kind, params.id!)), links: { self: selfLink(url) } },
      ]);
  }
};

const linkage = (type: string, id: string) => ({ type, id });

function fail(error: ApiError): never {
  throw error;
}

function readCreateRequest(body: string, appStoreVersions: readonly StoredAppStoreVersion[]) {
  const document = parseJsonBody(body) as {
    data?: {
      type?: unknown;
      relationships?: { appStoreVersion?: { data?: { type?: unknown; id?: unknown } } };
    };
  } | null;
  if (document?.data?.type !== "alternativeDistributionPackages") {
    throw new ApiError(
      400,
      "ENTITY_ERROR.TYPE.INVALID",
      "The resource type is not valid.",
      "The type must be 'alternativeDistributionPackages'.",
      { pointer: "/data/type" },
    );
  }
  const related = document.data.relationships?.appStoreVersion?.data;
  if (related?.type !== "appStoreVersions" || typeof related.id !== "string") {
    throw new ApiError(
      422,
      "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
      "A required relationship is missing.",
      "relationships.appStoreVersion.data must be { type: 'appStoreVersions', id }.",
      { pointer: "/data/relationships/appStoreVersion" },
    );
  }
  const version = appStoreVersions.find((candidate) => candidate.id === related.id);
  if (!version) {
    // The excerpt declares no 404 for POST: an unknown related version is an invalid entity.
    throw new ApiError(
      422,
      "ENTITY_ERROR.RELATIONSHIP.INVALID",
      "The relationship is not valid.",
      `There is no App Store version with id '${related.id.slice(0, 100)}' in this account.`,
      { pointer: "/data/relationships/appStoreVersion/data/id" },
    );
  }
  if (!eligibleStates.has(version.state)) {
    throw new ApiError(
      422,
      "ENTITY_ERROR.RELATIONSHIP.INVALID",
      "The relationship is not valid.",
      `The App Store version ${version.id} is in state ${version.state}; a package needs an approved version (${[...eligibleStates].join(", ")}).`,
      { pointer: "/data/relationships/appStoreVersion/data/id" },
    );
  }
  return version;
}

/** What App Store Connect has ready for a new package: one completed version, a variant per target. */
function build(appStoreVersion: StoredAppStoreVersion, installTargets: readonly string[]) {
  const item: StoredPackage = {
    id: crypto.randomUUID(),
    appStoreVersionId: appStoreVersion.id,
    sourceFileChecksum: checksum(),
  };
  return { package: item, ...newVersion(item.id, appStoreVersion.versionString, installTargets) };
}

/** A `COMPLETED` version of a package, with a variant per install target. */
export function newVersion(
  packageId: string,
  versionNumber: string,
  installTargets: readonly string[],
) {
  const version: StoredPackageVersion = {
    id: crypto.randomUUID(),
    packageId,
    version: versionNumber,
    state: "COMPLETED",
    fileChecksum: checksum(),
  };
  const assets: StoredPackageAsset[] = installTargets.map((installTarget) => ({
    id: crypto.randomUUID(),
    packageVersionId: version.id,
    kind: "variant",
    installTarget,
    keyBlob: keyBlob(),
    fileChecksum: checksum(),
  }));
  return { version, assets };
}

/** A stand-in for Apple's undocumented `fileChecksum`: 64 hex digits. */
export function checksum(): string {
  return crypto.randomUUID().replace(/-/g, "").repeat(2);
}

/** A key blob as Apple sends one: base64, unique per variant and delta. */
export function keyBlob(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(48))));
}
