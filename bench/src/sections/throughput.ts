import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTokenProvider } from "@asc-kit/core";
import { clientNames, createListCall, libraries } from "../clients.ts";
import type { ClientName, Target } from "../clients.ts";
import { median, mb, rotated, spread } from "../context.ts";
import type { BenchContext, Section } from "../context.ts";
import { startListServer } from "../server.ts";
import type { RoundReport, RoundRequest } from "../workers/throughput.ts";

interface ThroughputResult {
  signatures: Record<string, number>;
  perSecond: Record<string, number[]>;
  peakRssBytes: Record<string, number[]>;
}

/**
 * Signatures for 1,000 concurrent requests, then loopback throughput: each client in a fresh
 * process of its own per round (so that its peak RSS is its own, and no client inherits
 * another's warm JIT), against one server in a third process.
 */
export const throughput: Section<ThroughputResult> = {
  name: "throughput",
  async measure(context) {
    const server = await startListServer();
    const target = await targetFor(server.url, context);
    const signatures: Record<string, number> = {};
    for (const name of libraries) {
      const call = await createListCall(name, target);
      await server.takeTokenCount();
      await Promise.all(Array.from({ length: 1000 }, () => call()));
      signatures[name] = await server.takeTokenCount();
      context.log(`${name}: ${signatures[name]} signature(s) for 1,000 concurrent requests`);
    }
    const perSecond: Record<string, number[]> = {};
    const peakRssBytes: Record<string, number[]> = {};
    for (let round = 0; round < context.rounds; round++) {
      for (const name of rotated(clientNames, round)) {
        const report = await inWorker({
          name,
          target,
          requests: context.requests,
          concurrency: context.concurrency,
        });
        (perSecond[name] ??= []).push(report.perSecond);
        (peakRssBytes[name] ??= []).push(report.peakRssBytes);
      }
    }
    await server.close();
    context.log("throughput measured");
    return { signatures, perSecond, peakRssBytes };
  },
  render({ signatures, perSecond, peakRssBytes }, context) {
    const of = (name: string) => median(perSecond[name]!);
    const base = of("openapi-fetch alone");
    return [
      `## Throughput (${context.requests} requests × ${context.rounds} rounds, concurrency ${context.concurrency}; a loopback server in its own process answers like the list endpoint; each client in a fresh process per round, clients alternating within a round)`,
      "",
      "| client | requests/s (median) | spread of rounds | of raw fetch | of openapi-fetch alone | peak RSS (median) |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...clientNames.map(
        (name) =>
          `| ${name} | ${Math.round(of(name))} | ${spread(perSecond[name]!)} | ${(of(name) / of("raw fetch")).toFixed(3)} | ${(of(name) / base).toFixed(3)} | ${mb(median(peakRssBytes[name]!))} |`,
      ),
      "",
      `Target: asc-kit at least 0.95 of openapi-fetch alone, and ahead of every peer. asc-kit's ratio to openapi-fetch alone, round by round: ${perSecond[
        "asc-kit"
      ]!.map((value, round) => (value / perSecond["openapi-fetch alone"]![round]!).toFixed(2)).join(
        ", ",
      )}.`,
      "",
      "## Signatures for 1,000 concurrent requests (target: 1)",
      "",
      "| client | signatures |",
      "| --- | ---: |",
      ...Object.entries(signatures).map(([name, count]) => `| ${name} | ${count} |`),
      "",
    ];
  },
};

async function targetFor(baseUrl: string, context: BenchContext): Promise<Target> {
  const target: Target = {
    baseUrl,
    keyId: "BENCHKEY01",
    issuerId: "57246542-96fe-1a63-e053-0824d011072a",
    privateKey: context.privateKeyPem,
    token: "",
  };
  target.token = await createTokenProvider(target).getToken();
  return target;
}

function inWorker(request: RoundRequest): Promise<RoundReport> {
  const child = fork(fileURLToPath(new URL("../workers/throughput.ts", import.meta.url)), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (report) => {
      child.kill();
      resolve(report as RoundReport);
    });
    child.once("exit", (code) => reject(new Error(`${request.name}: the worker exited (${code})`)));
    child.send(request);
  });
}

export type { ClientName };
