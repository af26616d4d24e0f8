import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  getAlternativeDistributionPackageVersion,
  listAlternativeDistributionPackageVersions,
  parsePackageManifest,
  verifiedAsset,
} from "@asc-kit/core";
import type { ManifestAsset } from "@asc-kit/core";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { createSandbox } from "./web.js";

/** Creates the package of an approved version and reads its version with its variants. */
async function createdVersion(
  client: ReturnType<typeof createAppStoreConnectClient>,
  appStoreVersionId: string,
) {
  const created = await createAlternativeDistributionPackage(client, { appStoreVersionId });
  const [version] = (
    await listAlternativeDistributionPackageVersions(client, created.data!.data.id)
  ).data!;
  return (await getAlternativeDistributionPackageVersion(client, version!.id)).data!;
}

async function packageVersion(options: Parameters<typeof createSandbox>[0] = {}) {
  const sandbox = await createSandbox({ assetBytes: 10_000, assetChunkBytes: 4_096, ...options });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
  const contents = await createdVersion(client, sandbox.appStoreVersions()[0]!.id);
  return { sandbox, client, contents };
}

async function verify(body: ReadableStream<Uint8Array>, asset: ManifestAsset) {
  let bytes = 0;
  await body
    .pipeThrough(verifiedAsset(asset))
    .pipeTo(new WritableStream({ write: (chunk) => void (bytes += chunk.byteLength) }));
  return bytes;
}

describe("the sandbox's download links", () => {
  it("serve a zip whose manifest's digests verify every variant", async () => {
    const { sandbox, contents } = await packageVersion();
    const zip = await sandbox.fetch(contents.version.attributes!.url!);
    expect(zip.headers.get("content-type")).toBe("application/zip");
    const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(["manifest.json", "signature"]);
    const manifest = parsePackageManifest(new TextDecoder().decode(files["manifest.json"]));
    expect(manifest.variants.map((variant) => variant.publicId).sort()).toEqual(
      contents.variants.map((variant) => variant.id).sort(),
    );
    for (const asset of manifest.variants) {
      const resource = contents.variants.find((variant) => variant.id === asset.publicId)!;
      const response = await sandbox.fetch(resource.attributes!.url!);
      expect(await verify(response.body!, asset)).toBe(10_000);
    }
  });

  it("serve manifests with ids as Apple gives them, and versions that grow", async () => {
    const sandbox = await createSandbox({ assetBytes: 10_000, assetChunkBytes: 4_096 });
    const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
    const created = await createAlternativeDistributionPackage(client, {
      appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
    });
    const packageId = created.data!.data.id;
    const [listed] = (await listAlternativeDistributionPackageVersions(client, packageId)).data!;
    const contents = (await getAlternativeDistributionPackageVersion(client, listed!.id)).data!;
    const manifestOf = async (url: string) => {
      const zip = new Uint8Array(await (await sandbox.fetch(url)).arrayBuffer());
      return parsePackageManifest(new TextDecoder().decode(unzipSync(zip)["manifest.json"])).raw;
    };
    const first = await manifestOf(contents.version.attributes!.url!);
    expect(first).toMatchObject({
      appleItemId: expect.stringMatching(/^\d+$/),
      appleVersionId: expect.stringMatching(/^\d{10}$/),
      bundleVersion: "1",
      shortVersionString: "1.0",
      platforms: ["iOS"],
      minimumSystemVersions: { iOS: "17.4" },
    });
    const secondId = await sandbox.publishPackageVersion(packageId);
    const second = (await getAlternativeDistributionPackageVersion(client, secondId)).data!;
    const next = await manifestOf(second.version.attributes!.url!);
    expect(next).toMatchObject({ bundleVersion: "2", shortVersionString: "1.0.2" });
    expect(next.appleVersionId).toMatch(/^\d{10}$/);
    expect(next.appleVersionId).not.toBe(first.appleVersionId);
    // The same version keeps its id: a server can tell versions apart by it.
    expect(await manifestOf(contents.version.attributes!.url!)).toMatchObject({
      appleVersionId: first.appleVersionId,
    });
  });

  it("answer a range with 206, an expired or forged link with 403, and can be corrupted", async () => {
    let clock = Date.now();
    const { sandbox, contents } = await packageVersion({ now: () => clock });
    const url = contents.variants[0]!.attributes!.url!;
    const part = await sandbox.fetch(url, { headers: { range: "bytes=9000-" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 9000-9999/10000");
    expect((await part.arrayBuffer()).byteLength).toBe(1000);
    expect((await sandbox.fetch(url.replace(/accessKey=\d+_/, "accessKey=1_"))).status).toBe(403);
    const zip = unzipSync(
      new Uint8Array(await (await sandbox.fetch(contents.version.attributes!.url!)).arrayBuffer()),
    );
    const manifest = parsePackageManifest(new TextDecoder().decode(zip["manifest.json"]));
    const asset = manifest.variants.find((variant) => url.includes(variant.publicId))!;
    sandbox.injectFaults("corrupt");
    await expect(verify((await sandbox.fetch(url)).body!, asset)).rejects.toMatchObject({
      code: "ERR_CHUNK_DIGEST",
      detail: { chunk: 1 },
    });
    clock += 2 * 60 * 60 * 1000;
    expect((await sandbox.fetch(url)).status).toBe(403);
  });

  it("list a delta added later in the version's manifest", async () => {
    const { sandbox, client, contents } = await packageVersion();
    const deltaId = await sandbox.addDelta(contents.version.id);
    const again = (await getAlternativeDistributionPackageVersion(client, contents.version.id))
      .data!;
    expect(again.deltas.map((delta) => delta.id)).toEqual([deltaId]);
    const files = unzipSync(
      new Uint8Array(await (await sandbox.fetch(again.version.attributes!.url!)).arrayBuffer()),
    );
    const manifest = parsePackageManifest(new TextDecoder().decode(files["manifest.json"]));
    expect(manifest.deltas.map((delta) => delta.assetPath)).toEqual([`delta/${deltaId}.ipa`]);
  });
});

describe("the sandbox's assets over HTTP", () => {
  it("stream a verified asset and its ranges, each chunk with a digest of its own", async () => {
    const { startSandbox } = await import("./server.js");
    const options = { assetBytes: 3 * 1024 * 1024 + 5, assetChunkBytes: 1024 * 1024 };
    const server = await startSandbox({ ...options, installTargets: ["iPhone"] });
    try {
      const client = createAppStoreConnectClient({ ...server.credentials, baseUrl: server.url });
      const contents = await createdVersion(client, server.appStoreVersions()[0]!.id);
      expect(contents.variants).toHaveLength(1);
      const files = unzipSync(
        new Uint8Array(await (await fetch(contents.version.attributes!.url!)).arrayBuffer()),
      );
      const manifest = parsePackageManifest(new TextDecoder().decode(files["manifest.json"]));
      const asset = manifest.variants[0]!;
      expect(new Set(asset.hashes[0]!.encryptedChunkDigests).size).toBe(4);
      const url = contents.variants[0]!.attributes!.url!;
      expect(await verify((await fetch(url)).body!, asset)).toBe(options.assetBytes);
      const tail = await fetch(url, { headers: { range: "bytes=3145000-" } });
      expect(tail.headers.get("content-range")).toBe(`bytes 3145000-3145732/3145733`);
      expect((await tail.arrayBuffer()).byteLength).toBe(733);
    } finally {
      await server.stop();
    }
  });

  it("refuse an empty or malformed list of install targets", async () => {
    await expect(createSandbox({ installTargets: [] })).rejects.toThrow(TypeError);
    await expect(createSandbox({ installTargets: [""] })).rejects.toThrow(/installTargets/);
  });
});
