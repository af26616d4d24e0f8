import { fork } from "node:child_process";
import { compiledWorker } from "../compiled-worker.ts";
import { decimal, median, paired, signed, spread } from "../context.ts";
import type { BenchContext, Section } from "../context.ts";
import { blocksPerRound, callsPerRound, measurePerCall } from "../per-call.ts";
import type { PerCall } from "../per-call.ts";
import type { PerCallSetUp } from "../workers/overhead.ts";

/**
 * What each client's own layers cost per call, without a network: every client is given a
 * fetch that answers at once with a ready list page, and makes calls one after another. The
 * stable figure on a noisy machine: it holds no sockets, no server and no other process.
 * Measured on the bench's own Node.js, then on each `--node` binary in a process of its own.
 */
export const overhead: Section<PerCall[]> = {
  name: "overhead",
  async measure(context) {
    const runtimes = [
      {
        node: process.version,
        micros: await measurePerCall(context.privateKeyPem, context.rounds),
      },
    ];
    if (context.otherNodes.length) {
      const script = await compiledWorker(context.workDir, "overhead");
      for (const node of context.otherNodes) {
        runtimes.push(await perCallOn(node, script, context));
      }
    }
    context.log("per-call overhead measured");
    return runtimes;
  },
  render(runtimes) {
    return runtimes.flatMap((runtime, index) => renderRuntime(runtime, index === 0));
  },
};

/** The per-call figures measured by the worker on another Node.js binary. */
async function perCallOn(node: string, script: string, context: BenchContext): Promise<PerCall> {
  const child = fork(script, {
    execPath: node,
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const answer = new Promise<PerCall>((resolve, reject) => {
    child.once("message", (message) => resolve(message as PerCall));
    child.once("exit", (code) => reject(new Error(`per-call worker on ${node} exited (${code})`)));
  });
  const setUp: PerCallSetUp = { privateKeyPem: context.privateKeyPem, rounds: context.rounds };
  child.send(setUp);
  return answer;
}

function renderRuntime({ node, micros }: PerCall, first: boolean): string[] {
  const of = (name: string) => median(micros[name]!);
  // Differences are paired: taken within each round, then the median of the rounds.
  const differences = (name: string) =>
    paired(micros[name]!, micros["openapi-fetch alone"]!, (value, base) => value - base);
  const above = (name: string) => median(differences(name));
  const table = [
    "| client | µs per call (median) | spread of rounds | above openapi-fetch alone |",
    "| --- | ---: | ---: | ---: |",
    ...Object.keys(micros).map(
      (name) =>
        `| ${name} | ${of(name).toFixed(1)} | ${spread(micros[name]!)} | ${signed(above(name))} µs |`,
    ),
    "",
  ];
  const rounds = `asc-kit's difference round by round: ${differences("asc-kit")
    .map((value) => decimal(value))
    .join(
      ", ",
    )} µs; retries and the timeout cost ${signed(above("asc-kit") - above("asc-kit (no retries, no timeout)"))} µs a call.`;
  if (!first) {
    return [
      `### The same on Node.js ${node} (a process of its own, the same calls and rounds)`,
      "",
      ...table,
      rounds,
      "",
    ];
  }
  return [
    `## Per-call cost in process (a fetch that answers at once; ${callsPerRound} calls one after another × ${micros["asc-kit"]!.length} rounds, in ${blocksPerRound} blocks interleaved with the other clients')`,
    "",
    ...table,
    `The differences are the median of each round's own difference, so that a machine that drifts between rounds moves both sides alike; within a round the blocks are short (${callsPerRound / blocksPerRound} calls, a few ms), because a shared machine's speed changes from one tenth of a second to the next and a client's blocks should meet it as the others' do.`,
    "",
    "The default asc-kit client gives every attempt its own timeout (an AbortController and a deadline on a shared timer) and reads the body within it; the peers have no timeout. The attempt's signal is made when fetch first reads it: this fetch never does, so no call here makes one, while the runtime's fetch does (on Node.js 20 a signal costs some 3.5 µs; on Node.js 24, under 0.1 µs). The last row turns retries and the timeout off.",
    "",
    `Target: asc-kit at most openapi-fetch alone + 5 µs, on Node.js ${node}. ${rounds}`,
    "",
  ];
}
