import {
  appendFile,
  cp,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import { createSandbox } from "@asc-kit/sandbox/web";
import { beforeAll, describe, expect, it } from "vitest";
import { downloadPackageVersion, validatePackageLayout } from "./index.js";

let pristine = "";
let variants: string[] = [];

beforeAll(async () => {
  const sandbox = await createSandbox({ assetBytes: 10_000, assetChunkBytes: 4_096 });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
  const created = await createAlternativeDistributionPackage(client, {
    appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
  });
  const [version] = (
    await listAlternativeDistributionPackageVersions(client, created.data!.data.id)
  ).data!;
  pristine = join(await mkdtemp(join(tmpdir(), "asc-kit-validate-")), "package");
  await downloadPackageVersion(client, version!.id, {
    out: pristine,
    fetch: (input, init) => sandbox.fetch(input, init),
  });
  variants = (await readdir(join(pristine, "variant"))).map((name) => `variant/${name}`);
});

/** A copy of the good layout, changed by `change`. */
async function layout(change: (folder: string) => Promise<void> = async () => undefined) {
  const folder = join(await mkdtemp(join(tmpdir(), "asc-kit-validate-")), "package");
  await cp(pristine, folder, { recursive: true });
  await change(folder);
  return folder;
}

describe("validatePackageLayout", () => {
  it("passes a layout as the download wrote it, every chunk verified", async () => {
    const report = await validatePackageLayout(await layout());
    expect(report).toMatchObject({
      ok: true,
      assets: 2,
      bytes: 20_000,
      findings: [],
      appleItemId: "6476788026",
    });
    expect(report.appleVersionId).toMatch(/^\d+$/);
  });

  it.each([
    [
      "an extra .DS_Store",
      (f: string) => writeFile(join(f, ".DS_Store"), ""),
      "ERR_EXTRA_FILE",
      ".DS_Store",
    ],
    ["a missing variant", (f: string) => rm(join(f, variants[0]!)), "ERR_ASSET_MISSING", "variant"],
    [
      "a variant cut short",
      (f: string) => writeFile(join(f, variants[0]!), "short"),
      "ERR_ASSET_SIZE",
      "variant",
    ],
    [
      "a variant too long",
      (f: string) => appendFile(join(f, variants[0]!), "x"),
      "ERR_ASSET_SIZE",
      "variant",
    ],
    [
      "a corrupt chunk",
      async (f: string) => {
        const file = await open(join(f, variants[1]!), "r+");
        await file.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, 5_000);
        await file.close();
      },
      "ERR_CHUNK_DIGEST",
      "variant",
    ],
    ["no signature", (f: string) => rm(join(f, "signature")), "ERR_SIGNATURE_MISSING", "signature"],
    [
      "an empty signature",
      (f: string) => writeFile(join(f, "signature"), ""),
      "ERR_SIGNATURE_MISSING",
      "signature",
    ],
    [
      "no manifest",
      (f: string) => rm(join(f, "manifest.json")),
      "ERR_MANIFEST_MISSING",
      "manifest.json",
    ],
    [
      "a manifest that is not one",
      (f: string) => writeFile(join(f, "manifest.json"), "{}"),
      "ERR_MANIFEST_INVALID",
      "manifest.json",
    ],
    [
      "a symbolic link",
      (f: string) => symlink("/etc/hostname", join(f, "variant", "link.ipa")),
      "ERR_LINK",
      "variant/link.ipa",
    ],
    [
      "two paths that differ only in case",
      async (f: string) => {
        await mkdir(join(f, "Variant"));
        await cp(join(f, variants[0]!), join(f, variants[0]!.replace("variant/", "Variant/")));
      },
      "ERR_CASE_COLLISION",
      "variant",
    ],
  ])("names %s", async (_what, change, code, path) => {
    const report = await validatePackageLayout(await layout(change));
    expect(report.ok).toBe(false);
    const finding = report.findings.find((item) => item.code === code);
    expect(finding, JSON.stringify(report.findings)).toBeDefined();
    expect(finding!.path!.toLowerCase()).toContain(path.toLowerCase());
    expect(finding!.message.length).toBeGreaterThan(10);
  });
});
