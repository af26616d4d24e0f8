import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import { downloadPackageVersion } from "@asc-kit/download";
import { generateKeyPair } from "@asc-kit/pem";
import { createSandbox } from "@asc-kit/sandbox/web";
import { bin } from "./binary.js";

export const app = "6476788026";
export const distributor = "1234567890";
export const keyId = "0e3f7c2a-4b1d-4f5e-9a8b-7c6d5e4f3a2b";

/**
 * A root folder with the sandbox's approved version downloaded as `<app>/1`, a key pair on disk,
 * and `publish()` to download the next version as `<app>/<n>`.
 */
export async function layoutsOnDisk() {
  const sandbox = await createSandbox({ assetBytes: 20_000, assetChunkBytes: 4_096 });
  const client = createAppStoreConnectClient({ ...sandbox.credentials, fetch: sandbox.fetch });
  const created = await createAlternativeDistributionPackage(client, {
    appStoreVersionId: `${app}-1.0`,
  });
  const packageId = created.data!.data.id;
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-serve-"));
  const root = join(folder, "site");
  const keys = await generateKeyPair();
  const privateKey = join(folder, "private-key.pem");
  const publicKey = join(folder, "public-key.pem");
  await writeFile(privateKey, keys.privateKeyPem, { mode: 0o600 });
  await writeFile(publicKey, keys.publicKeyPem);
  const versions: string[] = [];
  const fetch = (input: string, init?: RequestInit) => sandbox.fetch(input, init);
  async function download(versionId: string) {
    versions.push(versionId);
    const out = join(root, app, String(versions.length));
    await downloadPackageVersion(client, versionId, { out, fetch });
    return out;
  }
  const [first] = (await listAlternativeDistributionPackageVersions(client, packageId)).data!;
  await download(first!.id);
  return {
    sandbox,
    folder,
    root,
    keys,
    privateKey,
    publicKey,
    /** Publishes the next version in the sandbox and downloads it beside the others. */
    async publish() {
      return download(await sandbox.publishPackageVersion(packageId));
    },
  };
}

/** A running `asc-kit serve`, and what it printed when ready. */
export interface Served {
  child: ChildProcess;
  url: string;
  summary: Record<string, any>;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `asc-kit serve` on `root` with the test key; resolves once it prints its JSON line. */
export async function serve(
  root: string,
  privateKey: string,
  extra: string[] = [],
): Promise<Served> {
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      root,
      "--key",
      privateKey,
      "--distribution-key-id",
      keyId,
      "--apple-id",
      distributor,
      ...extra,
    ],
    {
      env: { PATH: process.env.PATH, NO_COLOR: "1", TMPDIR: tmpdir() },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const summary = await new Promise<Record<string, any>>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("\n")) resolve(JSON.parse(stdout.split("\n")[0]!));
    });
    child.once("exit", (code) => reject(new Error(`asc-kit serve exited ${code}: ${stderr}`)));
  });
  return {
    child,
    url: summary.url as string,
    summary,
    stderr: () => stderr,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
    },
  };
}
