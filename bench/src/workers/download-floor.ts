/**
 * The least a Node.js download can do, step by step: the variant's URL through node:http,
 * each piece dropped ("receive"), through SHA-256 ("hash"), or through SHA-256 into a file
 * ("hash and write", the least a download that verifies as it streams can do). No API call, no
 * manifest, no chunk bookkeeping: what the runtime itself costs, measured beside asc-kit and curl.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { get } from "node:http";
import type { RequestOptions } from "node:http";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DownloadReport } from "./download-client.ts";

export type FloorSteps = "receive" | "hash" | "hash and write";

export interface FloorRequest {
  url: string;
  file: string;
  steps: FloorSteps;
}

const pieceBytes = 1024 * 1024;

process.once("message", async (message) => {
  const { url, file, steps } = message as FloorRequest;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const hash = createHash("sha256");
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    get(url, { highWaterMark: pieceBytes } as RequestOptions, (response) => {
      const digest = new Transform({
        transform(piece: Buffer, _encoding, done) {
          if (steps !== "receive") hash.update(piece);
          bytes += piece.byteLength;
          done(null, piece);
        },
      });
      const sink =
        steps === "hash and write"
          ? createWriteStream(file, { highWaterMark: pieceBytes })
          : new Writable({ write: (_piece, _encoding, done) => done() });
      pipeline(response, digest, sink).then(resolve, reject);
    }).once("error", reject);
  });
  hash.digest();
  const report: DownloadReport = {
    seconds: (performance.now() - start) / 1000,
    cpuSeconds: ((used) => (used.user + used.system) / 1e6)(process.cpuUsage(cpu)),
    bytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.send!(report);
});
