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

async function packageVersion(options: Parameters<typeof createSandbox>[0] = {}) {
  const sandbox = await createSandbox({ assetBytes: 10_000, assetChunkBytes: 4_096, ...options });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
  const created = await createAlternativeDistributionPackage(client, {
    appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
  });
  const [version] = (
    await listAlternativeDistributionPackageVersions(client, created.data!.data.id)
  ).data!;
  const contents = (await getAlternativeDistributionPackageVersion(client, version!.id)).data!;
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
