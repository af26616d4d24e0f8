/**
 * The sandbox the download figure is measured against, in a process of its own: one approved
 * version whose package has a single 256 MB variant in 10 MiB chunks, as Apple's large assets.
 */
import { startSandbox } from "@asc-kit/sandbox";

export const assetBytes = 256 * 1024 * 1024;

export interface DownloadServerReady {
  url: string;
  credentials: { keyId: string; issuerId: string; privateKey: string };
  appStoreVersionId: string;
}

const sandbox = await startSandbox({
  assetBytes,
  assetChunkBytes: 10 * 1024 * 1024,
  installTargets: ["iPhone"],
});
const ready: DownloadServerReady = {
  url: sandbox.url,
  credentials: sandbox.credentials,
  appStoreVersionId: sandbox.appStoreVersions()[0]!.id,
};
process.send!(ready);
process.once("disconnect", () => void sandbox.stop());
