import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import { createSandbox } from "@asc-kit/sandbox/web";
import { describe, expect, it } from "vitest";
import { downloadPackageVersion } from "./index.js";
import type { DownloadOptions } from "./index.js";

/** A sandbox version to download, a scratch folder, and a file an attacker would aim at. */
async function setUp() {
  const sandbox = await createSandbox({ assetBytes: 10_000, assetChunkBytes: 4_096 });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
  const created = await createAlternativeDistributionPackage(client, {
    appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
  });
  const versions = await listAlternativeDistributionPackageVersions(client, created.data!.data.id);
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-folders-"));
  const victim = join(folder, "victim.txt");
  await writeFile(victim, "precious");
  const download = (out: string, options: Partial<DownloadOptions> = {}) =>
    downloadPackageVersion(client, versions.data![0]!.id, {
      out,
      fetch: (input, init) => sandbox.fetch(input, init),
      ...options,
    });
  return { folder, victim, download };
}

describe("the output folder", () => {
  it.each(["/.", "/./", "/.//", "/sub/.."])(
    "keeps the key blobs outside a folder written with %s at its end",
    async (ending) => {
      const { folder, download } = await setUp();
      await mkdir(join(folder, "package", "sub"), { recursive: true });
      const result = await download(`${join(folder, "package")}${ending}`);
      expect(result.keyBlobs).toBe(join(folder, "package.key-blobs.json"));
      expect(await readdir(join(folder, "package"))).not.toContain("..key-blobs.json");
      expect((await stat(result.keyBlobs)).mode & 0o777).toBe(0o600);
    },
  );

  it("refuses key blobs anywhere inside the folder, whatever their name starts with", async () => {
    const { folder, download } = await setUp();
    const out = join(folder, "package");
    for (const inside of ["..key-blobs.json", "..x/y.json", "sub/../..x", "."]) {
      await expect(download(out, { keyBlobs: `${out}/${inside}` })).rejects.toThrow(
        /outside the served folder/,
      );
    }
    const beside = await download(out, { keyBlobs: join(folder, "..blobs.json") });
    expect(beside.keyBlobs).toBe(join(folder, "..blobs.json"));
  });

  it("replaces a link at an asset's name or its partial file, never writing through it", async () => {
    const { folder, victim, download } = await setUp();
    const out = join(folder, "package");
    const { assets } = await download(out);
    const [first, second] = assets.map((asset) => join(out, asset.assetPath));
    await rm(out, { recursive: true });
    await mkdir(join(first!, ".."), { recursive: true });
    await mkdir(join(second!, ".."), { recursive: true });
    await symlink(victim, `${first}.part`);
    await symlink(victim, second!);
    const again = await download(out);
    expect(again.assets.every((asset) => asset.downloaded)).toBe(true);
    expect(await readFile(victim, "utf8")).toBe("precious");
    for (const path of [first!, second!]) expect((await stat(path)).size).toBe(10_000);
  });

  it.each(["variant", "delta"])("refuses an output folder whose %s/ is a link", async (name) => {
    const { folder, download } = await setUp();
    const out = join(folder, "package");
    const elsewhere = join(folder, "elsewhere");
    await mkdir(out, { recursive: true });
    await mkdir(elsewhere);
    await symlink(elsewhere, join(out, name));
    await expect(download(out)).rejects.toMatchObject({
      code: "ERR_LAYOUT",
      message: expect.stringContaining(`${name} is a symbolic link`),
    });
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it("refuses a layout that holds a link, wherever it is", async () => {
    const { folder, download } = await setUp();
    const out = join(folder, "package");
    await download(out);
    await symlink("/etc", join(out, "variant", "etc"));
    await expect(download(out)).rejects.toMatchObject({
      code: "ERR_LAYOUT",
      message: expect.stringContaining("variant/etc"),
    });
  });
});
