import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import { startSandbox } from "@asc-kit/sandbox";
import { createSandbox } from "@asc-kit/sandbox/web";
import type { CreateSandboxOptions } from "@asc-kit/sandbox/web";
import { describe, expect, it } from "vitest";
import { DownloadError, downloadPackageVersion } from "./index.js";

/** Cuts a response's body off after `keep` bytes, as a dropped connection does. */
function cutOff(response: Response, keep: number): Response {
  const reader = response.body!.getReader();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // The bytes before the break arrive; the next read fails, as a reset connection does.
      if (sent >= keep) return controller.error(new TypeError("terminated"));
      const { done, value } = await reader.read();
      if (done) return controller.close();
      const part = value.slice(0, keep - sent);
      sent += part.byteLength;
      controller.enqueue(part);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

async function setUp(
  options: CreateSandboxOptions = {},
  /** Called before each asset request with its number (0 first); may change the answer. */
  onAsset?: (index: number, answer: () => Promise<Response>) => Promise<Response>,
) {
  const sandbox = await createSandbox({ assetBytes: 10_000, assetChunkBytes: 4_096, ...options });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
  const created = await createAlternativeDistributionPackage(client, {
    appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
  });
  const versions = await listAlternativeDistributionPackageVersions(client, created.data!.data.id);
  const versionId = versions.data![0]!.id;
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-download-"));
  const out = join(folder, "package");
  const assetRequests: string[] = [];
  let assetIndex = 0;
  const fetch = (input: string, init?: RequestInit) => {
    const range = new Headers(init?.headers).get("range");
    const path = new URL(input).pathname;
    assetRequests.push(`${path.split("/").slice(-2).join("/")}${range ? ` ${range}` : ""}`);
    const answer = () => sandbox.fetch(input, init);
    if (!path.endsWith(".ipa") || !onAsset) return answer();
    return onAsset(assetIndex++, answer);
  };
  const download = () => downloadPackageVersion(client, versionId, { out, fetch });
  return { sandbox, client, versionId, folder, out, download, assetRequests };
}

describe("downloadPackageVersion", () => {
  it("lays the package out, verified, with the key blobs beside it, and a second run downloads nothing", async () => {
    const { out, download, assetRequests } = await setUp();
    const result = await download();
    expect(result.assets).toHaveLength(2);
    expect(result.assets.every((asset) => asset.downloaded && asset.bytes === 10_000)).toBe(true);
    for (const asset of result.assets) {
      expect((await stat(join(out, asset.assetPath))).size).toBe(10_000);
    }
    expect(JSON.parse(await readFile(join(out, "manifest.json"), "utf8")).variants).toHaveLength(2);
    expect(result.keyBlobs).toBe(`${out}.key-blobs.json`);
    expect((await stat(result.keyBlobs)).mode & 0o777).toBe(0o600);
    const blobs = JSON.parse(await readFile(result.keyBlobs, "utf8")) as Record<
      string,
      { keyBlob: string }
    >;
    expect(Object.values(blobs).every((blob) => /^[A-Za-z0-9+/]+=*$/.test(blob.keyBlob))).toBe(
      true,
    );

    assetRequests.length = 0;
    const again = await download();
    expect(again.assets.every((asset) => !asset.downloaded)).toBe(true);
    expect(assetRequests).toEqual([
      expect.stringMatching(/\/alternative-distribution-package\.zip$/),
    ]);
  });

  it("resumes a transfer that broke off, from its last verified chunk", async () => {
    // The first asset breaks off after 5,000 of its 10,000 bytes: one whole 4,096-byte chunk.
    const { download, assetRequests } = await setUp({}, async (index, answer) =>
      index === 0 ? cutOff(await answer(), 5_000) : answer(),
    );
    const result = await download();
    const resumed = result.assets.filter((asset) => asset.resumedFrom !== undefined);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ resumedFrom: 4_096, bytes: 10_000, downloaded: true });
    expect(assetRequests.filter((request) => request.endsWith("bytes=4096-"))).toHaveLength(1);
  });

  it("checks what a crashed run left before resuming from it, keeping only verified chunks", async () => {
    const { out, download, assetRequests } = await setUp();
    const first = await download();
    const path = join(out, first.assets[0]!.assetPath);
    // A crash mid-transfer leaves a partial file whose second chunk was never verified.
    const bytes = await readFile(path);
    bytes[5_000] = bytes[5_000]! ^ 0xff;
    await writeFile(`${path}.part`, bytes.subarray(0, 9_000));
    await rm(path);
    assetRequests.length = 0;
    const result = await download();
    expect(result.assets[0]).toMatchObject({ downloaded: true, resumedFrom: 4_096 });
    expect(assetRequests.filter((request) => request.endsWith(".ipa bytes=4096-"))).toHaveLength(1);
    const again = await download();
    expect(again.assets.every((asset) => !asset.downloaded)).toBe(true);
  });

  it("refuses a corrupt chunk, naming the asset and chunk, and leaves no partial file", async () => {
    const { sandbox, out, download } = await setUp({}, async (index, answer) => {
      if (index === 0) sandbox.injectFaults("corrupt");
      return answer();
    });
    const error = await download().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({
      name: "PackageError",
      code: "ERR_CHUNK_DIGEST",
      detail: { chunk: 1 },
    });
    const { readdir } = await import("node:fs/promises");
    const left = await readdir(join(out, "variant")).catch(() => []);
    expect(left.filter((name) => name.endsWith(".part"))).toEqual([]);
  });

  it("refreshes a link that has expired through the API", async () => {
    // The CDN's answer to an expired access key; the sandbox's own expiry is tested there.
    const { download, assetRequests } = await setUp({}, async (index, answer) =>
      index === 0 ? new Response("expired", { status: 403 }) : answer(),
    );
    const result = await download();
    expect(result.assets.every((asset) => asset.downloaded)).toBe(true);
    expect(assetRequests.filter((request) => request.endsWith(".ipa"))).toHaveLength(3);
  });

  it("picks up a delta that arrived later, and nothing else", async () => {
    const { sandbox, versionId, download, assetRequests } = await setUp();
    await download();
    const deltaId = await sandbox.addDelta(versionId);
    assetRequests.length = 0;
    const result = await download();
    expect(
      result.assets.filter((asset) => asset.downloaded).map((asset) => asset.assetPath),
    ).toEqual([`delta/${deltaId}.ipa`]);
  });

  it("asks again when a connection fails before any answer, like a 503", async () => {
    let failed = 0;
    const { download } = await setUp({}, async (index, answer) => {
      if (index < 2) {
        failed++;
        throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
      }
      return answer();
    });
    const result = await download();
    expect(failed).toBe(2);
    expect(result.assets.every((asset) => asset.downloaded)).toBe(true);
  });

  it("ends a connection that keeps failing with ERR_DOWNLOAD_NETWORK, its cause attached", async () => {
    const { download } = await setUp({}, async () => {
      throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    });
    const error = await download().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error).toMatchObject({
      code: "ERR_DOWNLOAD_NETWORK",
      message: expect.stringContaining("(ECONNREFUSED)"),
      cause: expect.objectContaining({ message: "fetch failed" }),
    });
  });

  it("refuses a folder with files that are not the package's", async () => {
    const { out, download } = await setUp();
    await download();
    await writeFile(join(out, ".DS_Store"), "");
    await expect(download()).rejects.toMatchObject({ code: "ERR_LAYOUT" });
    await expect(download()).rejects.toBeInstanceOf(DownloadError);
  });
});

describe("downloadPackageVersion over HTTP (Node's own transport, no fetch injected)", () => {
  async function overHttp() {
    const sandbox = await startSandbox({ assetBytes: 300_000, assetChunkBytes: 65_536 });
    const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
    const created = await createAlternativeDistributionPackage(client, {
      appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
    });
    const versions = await listAlternativeDistributionPackageVersions(
      client,
      created.data!.data.id,
    );
    const folder = await mkdtemp(join(tmpdir(), "asc-kit-download-http-"));
    const out = join(folder, "package");
    const download = () => downloadPackageVersion(client, versions.data![0]!.id, { out });
    return { sandbox, out, download };
  }

  it("downloads, resumes a body cut off half-way, and refuses a corrupt chunk", async () => {
    const { sandbox, out, download } = await overHttp();
    try {
      sandbox.injectAssetFaults("truncated");
      const result = await download();
      expect(result.assets.every((asset) => asset.downloaded && asset.bytes === 300_000)).toBe(
        true,
      );
      // Half of 300,000 bytes arrived: two whole 65,536-byte chunks are kept.
      expect(result.assets.map((asset) => asset.resumedFrom).filter(Boolean)).toEqual([131_072]);

      await rm(out, { recursive: true });
      sandbox.injectAssetFaults("corrupt");
      await expect(download()).rejects.toMatchObject({
        code: "ERR_CHUNK_DIGEST",
        detail: { chunk: 2 },
      });
    } finally {
      await sandbox.stop();
    }
  });

  it("asks again after a CDN error, and reports one that persists with its status", async () => {
    const { sandbox, out, download } = await overHttp();
    try {
      sandbox.injectAssetFaults("503");
      const result = await download();
      expect(result.assets.every((asset) => asset.downloaded)).toBe(true);

      await rm(out, { recursive: true });
      sandbox.injectAssetFaults(...Array<"500">(8).fill("500"));
      await expect(download()).rejects.toMatchObject({
        name: "DownloadError",
        code: "ERR_DOWNLOAD_HTTP",
        message: expect.stringContaining("answered 500"),
      });
    } finally {
      await sandbox.stop();
    }
  });
});
