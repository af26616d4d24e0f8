import { fork } from "node:child_process";
import { rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createAlternativeDistributionPackage,
  createAppStoreConnectClient,
  getAlternativeDistributionPackageVersion,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import { compiledWorker } from "../compiled-worker.ts";
import { median, mb, paired, rotated, run, spread } from "../context.ts";
import type { Section } from "../context.ts";
import type { DownloadReport, DownloadRequest } from "../workers/download-client.ts";
import type { FloorRequest, FloorSteps } from "../workers/download-floor.ts";
import type { DownloadServerReady } from "../workers/download-server.ts";

interface Runs {
  /** MB/s of each round. */
  megabytesPerSecond: number[];
  /** CPU seconds (user + system) of each round. */
  cpuSeconds: number[];
}

interface DownloadFigures {
  assetBytes: number;
  /** asc-kit's whole job (API calls, zip, variant, verification, layout check), in-process. */
  ascKit: Runs & { peakRssBytes: number[]; transferMegabytesPerSecond: number[] };
  /** Node.js alone: node:http into a file, SHA-256 over every piece (no API, no manifest). */
  nodeFloor: Runs;
  /** Node.js receiving the body and dropping it: what its HTTP stack alone costs. */
  nodeReceive: Runs;
  /** Node.js receiving the body through SHA-256, writing nothing: what verifying adds. */
  nodeHash: Runs;
  /** curl writing the variant's URL to disk, from its start to its exit. */
  curl: Runs;
  /** curl, then `openssl dgst -sha256` over the file: verification by hand, whole file. */
  curlThenHash: Runs;
}

const worker = (name: string) => fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));

/**
 * A 256 MB variant from the sandbox over loopback: `downloadPackageVersion` (every chunk
 * verified as it streams) against curl writing the same URL to disk, alternating per round.
 */
export const download: Section<DownloadFigures> = {
  name: "download",
  async measure(context) {
    const server = fork(worker("download-server"), {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const ready = await new Promise<DownloadServerReady>((resolve) =>
      server.once("message", (message) => resolve(message as DownloadServerReady)),
    );
    try {
      const client = createAppStoreConnectClient({ ...ready.credentials, baseUrl: ready.url });
      const created = must(
        await createAlternativeDistributionPackage(client, {
          appStoreVersionId: ready.appStoreVersionId,
        }),
      );
      const [version] = must(
        await listAlternativeDistributionPackageVersions(client, created.data.id),
      );
      const versionId = version!.id;
      // The first read of the zip builds the manifest (the digests of 256 MB): not timed.
      await fetch(version!.attributes!.url!).then((response) => response.arrayBuffer());
      const script = await compiledWorker(context.workDir, "download-client");
      const floorScript = await compiledWorker(context.workDir, "download-floor");
      const out = join(context.workDir, "download");
      const curlFile = join(context.workDir, "curl.ipa");
      const runs = (): Runs => ({ megabytesPerSecond: [], cpuSeconds: [] });
      const figures: DownloadFigures = {
        assetBytes: 0,
        ascKit: { ...runs(), peakRssBytes: [], transferMegabytesPerSecond: [] },
        nodeFloor: runs(),
        nodeReceive: runs(),
        nodeHash: runs(),
        curl: runs(),
        curlThenHash: runs(),
      };
      const floors: Record<string, { steps: FloorSteps; runs: Runs }> = {
        "node floor": { steps: "hash and write", runs: figures.nodeFloor },
        "node receive": { steps: "receive", runs: figures.nodeReceive },
        "node hash": { steps: "hash", runs: figures.nodeHash },
      };
      const tools = [
        "asc-kit",
        "node floor",
        "node receive",
        "node hash",
        "curl",
        "curl then hash",
      ] as const;
      for (let round = 0; round < context.rounds; round++) {
        for (const tool of rotated(tools, round)) {
          await rm(out, { recursive: true, force: true });
          await rm(`${out}.key-blobs.json`, { force: true });
          await rm(curlFile, { force: true });
          if (tool === "asc-kit") {
            const report = await inWorker(script, { ...ready, versionId, out });
            figures.assetBytes = report.bytes;
            figures.ascKit.megabytesPerSecond.push(report.bytes / 1e6 / report.seconds);
            figures.ascKit.cpuSeconds.push(report.cpuSeconds);
            figures.ascKit.peakRssBytes.push(report.peakRssBytes);
            figures.ascKit.transferMegabytesPerSecond.push(
              report.bytes / 1e6 / report.transferSeconds!,
            );
          } else {
            const contents = must(
              await getAlternativeDistributionPackageVersion(client, versionId),
            );
            const url = contents.variants[0]!.attributes!.url!;
            const floor = floors[tool];
            if (floor) {
              const request: FloorRequest = { url, file: curlFile, steps: floor.steps };
              const report = await inWorker(floorScript, request);
              floor.runs.megabytesPerSecond.push(report.bytes / 1e6 / report.seconds);
              floor.runs.cpuSeconds.push(report.cpuSeconds);
              continue;
            }
            const hash = tool === "curl then hash" ? ` && openssl dgst -sha256 '${curlFile}'` : "";
            // bash's time gives the CPU the commands used; the wall time is taken here.
            const start = performance.now();
            const { stderr } = await run("bash", [
              "-c",
              `TIMEFORMAT='%U %S'; time (curl -sS -o '${curlFile}' '${url}'${hash} >/dev/null)`,
            ]);
            const seconds = (performance.now() - start) / 1000;
            const [user, system] = stderr.trim().split(/\s+/).slice(-2).map(Number);
            const target = tool === "curl" ? figures.curl : figures.curlThenHash;
            target.megabytesPerSecond.push(figures.assetBytes / 1e6 / seconds);
            target.cpuSeconds.push(user! + system!);
          }
        }
      }
      await rm(out, { recursive: true, force: true });
      await rm(curlFile, { force: true });
      context.log("download measured");
      return figures;
    } finally {
      server.disconnect();
      server.kill();
    }
  },
  render(figures, context) {
    const of = (runs: Runs) => median(runs.megabytesPerSecond);
    const row = (name: string, runs: Runs, rss: string) =>
      `| ${name} | ${of(runs).toFixed(0)} | ${spread(runs.megabytesPerSecond)} | ${(of(runs) / of(figures.curl)).toFixed(2)} | ${median(runs.cpuSeconds).toFixed(2)} s | ${rss} |`;
    const against = (runs: Runs) =>
      paired(figures.ascKit.megabytesPerSecond, runs.megabytesPerSecond, (value, base) =>
        (value / base).toFixed(2),
      ).join(", ");
    const transfer = figures.ascKit.transferMegabytesPerSecond;
    const transferRatio = median(transfer) / of(figures.curl);
    return [
      `## Package download (a ${mb(figures.assetBytes)} variant in 10 MiB chunks from the sandbox in its own process, over loopback; ${context.rounds} rounds, tools alternating)`,
      "",
      "| tool | MB/s (median) | spread of rounds | vs curl | CPU (median) | peak RSS (median) |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      row(
        "asc-kit `downloadPackageVersion` (every chunk verified as it streams, layout checked)",
        figures.ascKit,
        mb(median(figures.ascKit.peakRssBytes)),
      ),
      `| asc-kit, the variant's transfer alone (its first piece to its last: the API calls and the zip left out) | ${median(transfer).toFixed(0)} | ${spread(transfer)} | ${(median(transfer) / of(figures.curl)).toFixed(2)} | — | — |`,
      row(
        "Node.js alone: node:http into a file, SHA-256 over every piece (no API call, no manifest)",
        figures.nodeFloor,
        "—",
      ),
      row(
        "Node.js receiving only: node:http, every piece dropped (no hash, no file)",
        figures.nodeReceive,
        "—",
      ),
      row(
        "Node.js receiving and hashing: node:http, SHA-256 over every piece (no file)",
        figures.nodeHash,
        "—",
      ),
      row("curl -o (no verification)", figures.curl, "—"),
      row(
        "curl -o, then `openssl dgst -sha256` (the whole file, by hand)",
        figures.curlThenHash,
        "—",
      ),
      "",
      `Target: at least 0.9 of curl writing the same URL to disk, with digests verified, and peak RSS below 150 MB. Like with like, that is the variant's transfer, every chunk verified and written: ${transferRatio.toFixed(2)} of curl (${transferRatio >= 0.9 ? "met" : "not met"}; round by round: ${paired(transfer, figures.curl.megabytesPerSecond, (value, base) => (value / base).toFixed(2)).join(", ")}). Peak RSS ${mb(median(figures.ascKit.peakRssBytes))} (${median(figures.ascKit.peakRssBytes) < 150 * 1024 * 1024 ? "met" : "not met"}).`,
      "",
      `asc-kit's whole job does more than curl: it reads the version and its variant through the API, fetches the zip and checks the layout, timed inside a fresh Node process (its start-up excluded); curl's time runs from its start to its exit. The whole job against curl, round by round: ${against(figures.curl)}; against Node.js alone: ${against(figures.nodeFloor)}.`,
      "",
      "Node.js alone is the plain way to do the same in Node.js: `node:http` and its streams, SHA-256 over every piece, a file stream. asc-kit reads the socket itself instead, into one buffer reused from the first byte to the last, verifies each piece there and writes it at once: Node's `http` client allocates memory for every read, and its streams pass every piece on.",
      "",
      `The two rows below Node.js alone take it apart: receiving alone, what Node.js's HTTP stack costs; with SHA-256, what verifying adds; the rest is the file. This machine has ${availableParallelism()} cores, and the sandbox serving the variant keeps one of them busy: receiving, hashing and writing share what is left, where curl only receives and writes.`,
      "",
    ];
  },
};

function must<T>(result: { data?: T; error?: unknown }): NonNullable<T> {
  if (result.error !== undefined) throw result.error;
  return result.data as NonNullable<T>;
}

function inWorker(
  script: string,
  request: DownloadRequest | FloorRequest,
): Promise<DownloadReport> {
  const child = fork(script, {
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (report) => {
      child.kill();
      resolve(report as DownloadReport);
    });
    child.once("exit", (code) => reject(new Error(`the download worker exited (${code})`)));
    child.send(request);
  });
}
