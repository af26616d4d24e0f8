/**
 * The least a Node.js download that verifies can do: the variant's URL through node:http
 * into a file, every piece through SHA-256 as it passes. No API call, no manifest, no chunk
 * bookkeeping: what the runtime itself costs, measured beside asc-kit and curl.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { get } from "node:http";
import type { RequestOptions } from "node:http";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DownloadReport } from "./download-client.ts";

export interface FloorRequest {
  url: string;
  file: string;
}

const pieceBytes = 1024 * 1024;

process.once("message", async (message) => {
  const { url, file } = message as FloorRequest;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const hash = createHash("sha256");
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    get(url, { highWaterMark: pieceBytes } as RequestOptions, (response) => {
      const digest = new Transform({
        transform(piece: Buffer, _encoding, done) {
          hash.update(piece);
          bytes += piece.byteLength;
          done(null, piece);
        },
      });
      pipeline(response, digest, createWriteStream(file, { highWaterMark: pieceBytes })).then(
        resolve,
        reject,
      );
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
