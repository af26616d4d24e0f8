/** One download of a package version by asc-kit, in a fresh process: its time and peak RSS. */
import { createAppStoreConnectClient } from "@asc-kit/core";
import { downloadPackageVersion } from "@asc-kit/download";

export interface DownloadRequest {
  url: string;
  credentials: { keyId: string; issuerId: string; privateKey: string };
  versionId: string;
  out: string;
}
export interface DownloadReport {
  seconds: number;
  /** User and system CPU the download used. */
  cpuSeconds: number;
  bytes: number;
  peakRssBytes: number;
  /** asc-kit only: from the variant's first piece to its last, the API calls and zip left out. */
  transferSeconds?: number;
}

process.once("message", async (message) => {
  const { url, credentials, versionId, out } = message as DownloadRequest;
  const client = createAppStoreConnectClient({ ...credentials, baseUrl: url });
  const start = performance.now();
  const cpu = process.cpuUsage();
  let first: number | undefined;
  let last = 0;
  const result = await downloadPackageVersion(client, versionId, {
    out,
    onProgress() {
      last = performance.now();
      first ??= last;
    },
  });
  const report: DownloadReport = {
    seconds: (performance.now() - start) / 1000,
    cpuSeconds: ((used) => (used.user + used.system) / 1e6)(process.cpuUsage(cpu)),
    bytes: result.assets.reduce((total, asset) => total + asset.bytes, 0),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    transferSeconds: (last - (first ?? last)) / 1000,
  };
  process.send!(report);
});
