import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  getAlternativeDistributionPackageDelta,
  getAlternativeDistributionPackageVariant,
  getAlternativeDistributionPackageVersion,
  getAppStoreVersionAlternativeDistributionPackage,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import { describe, expect, it } from "vitest";
import { createSandbox } from "./web.js";

/** The core helpers against the sandbox in process: the path a package takes, end to end. */
describe("package helpers against the sandbox", () => {
  it("create, find, list versions, read a version with its variants, refresh a variant", async () => {
    const sandbox = await createSandbox();
    const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
    const [approved, unapproved] = sandbox.appStoreVersions();
    // The answer to the create is lost: the helper finds the package it made all the same.
    sandbox.injectFaults("reset-after");
    const created = await createAlternativeDistributionPackage(client, {
      appStoreVersionId: approved!.id,
    });
    expect(created.error).toBeUndefined();
    expect(sandbox.stats.creates).toBe(1);
    const again = await createAlternativeDistributionPackage(client, {
      appStoreVersionId: approved!.id,
    });
    expect(again.error).toMatchObject({ kind: "conflict" });
    const refused = await createAlternativeDistributionPackage(client, {
      appStoreVersionId: unapproved!.id,
    });
    expect(refused.error).toMatchObject({ kind: "unprocessable" });

    const found = await getAppStoreVersionAlternativeDistributionPackage(client, approved!.id);
    expect(found.data?.data.id).toBe(created.data?.data.id);
    const none = await getAppStoreVersionAlternativeDistributionPackage(client, unapproved!.id);
    expect(none.error?.kind).toBe("not-found");

    const versions = await listAlternativeDistributionPackageVersions(client, found.data!.data.id);
    expect(versions.data?.map((version) => version.attributes?.state)).toEqual(["COMPLETED"]);
    const contents = await getAlternativeDistributionPackageVersion(client, versions.data![0]!.id);
    expect(contents.data?.variants).toHaveLength(2);
    expect(contents.data?.deltas).toEqual([]);
    const variant = contents.data!.variants[0]!;
    const refreshed = await getAlternativeDistributionPackageVariant(client, variant.id);
    expect(refreshed.data?.attributes?.alternativeDistributionKeyBlob).toBe(
      variant.attributes?.alternativeDistributionKeyBlob,
    );
    expect(refreshed.data?.attributes?.url).not.toBe(variant.attributes?.url);
    expect((await getAlternativeDistributionPackageDelta(client, variant.id)).error?.kind).toBe(
      "not-found",
    );
  });
});
