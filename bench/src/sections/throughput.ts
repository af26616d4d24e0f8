import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createTokenProvider } from "@asc-kit/core";
import { forkOn, splitCpus } from "../affinity.ts";
import type { CpuSplit } from "../affinity.ts";
import { clientNames, createListCall, libraries } from "../clients.ts";
import { compiledWorker } from "../compiled-worker.ts";
import type { ClientName, Target } from "../clients.ts";
import {
  balanced,
  decimal,
  interleaved,
  median,
  mb,
  paired,
  signed,
  spread,
  wholeDesigns,
} from "../context.ts";
import type { BenchContext, Section } from "../context.ts";
import { startListServer } from "../server.ts";
import type { BlockAnswer, RoundAnswer, RoundSetUp, RoundStep } from "../workers/throughput.ts";

/**
 * The clients compared; openapi-fetch once more with a timeout like asc-kit's, since the peers
 * have none; and asc-kit once more over its Node.js transport.
 */
const throughputClients: readonly ClientName[] = [
  ...clientNames,
  "openapi-fetch, a timeout per call",
  "asc-kit over createNodeFetch",
];

/**
 * The clients of the steady-state rounds: what the throughput target compares. Their processes
 * make this many requests before their blocks are timed, and this many in the blocks.
 */
const steadyClients: readonly ClientName[] = [
  "openapi-fetch alone",
  "openapi-fetch, a timeout per call",
  ...libraries,
];
const steadyWarmUpRequests = 8000;
const steadyRequests = 6000;

/** Blocks each client's requests of a round are cut into, interleaved with the others'. */
const blocksPerRound = 12;

/**
 * Rounds of fresh processes per round asked for: one process runs the same client some 10%
 * faster or slower than the next for its whole life (which code the JIT happened to make), so
 * the processes, not the requests, are what the median needs many of.
 */
const processSetsPerRound = 2;

/** Each client's requests per second and peak RSS, round by round, on one Node.js. */
interface Rounds {
  node: string;
  perSecond: Record<string, number[]>;
  peakRssBytes: Record<string, number[]>;
  /** Minor page faults a timed request, round by round (0 where the system counts none). */
  pageFaults: Record<string, number[]>;
  /**
   * CPU µs a timed request on the main thread and on the others, round by round; none where
   * the system does not tell threads apart.
   */
  mainThreadMicros: Record<string, number[]>;
  otherThreadsMicros: Record<string, number[]>;
}

interface ThroughputRun extends Rounds {
  /** Requests per second of the steady-state rounds, round by round. */
  steadyPerSecond: Record<string, number[]>;
}

/** What a set of rounds runs: which clients, how many rounds, how many requests. */
interface RoundPlan {
  clients: readonly ClientName[];
  rounds: number;
  warmUpRequests: number;
  requests: number;
  concurrency: number;
}

interface ThroughputResult {
  signatures: Record<string, number>;
  /** The CPUs of the server and of the clients, when they were pinned. */
  cpus: CpuSplit | undefined;
  /** The bench's own Node.js first, then each `--node` binary's. */
  runs: ThroughputRun[];
}

/**
 * Signatures for 1,000 concurrent requests, then loopback throughput: each client in a fresh
 * process of its own per round (so that its peak RSS is its own, and no client inherits
 * another's warm JIT), against one server in a third process, on CPUs other than the clients'
 * where they can be pinned. The rounds run on the bench's own Node.js, then again on each
 * `--node` binary: the clients' processes run on it, the server stays where it is.
 */
export const throughput: Section<ThroughputResult> = {
  name: "throughput",
  async measure(context) {
    const cpus = splitCpus();
    context.log(
      cpus
        ? `throughput: the server on CPU ${cpus.server}, the clients on CPU ${cpus.clients}`
        : "throughput: no taskset or a single CPU, so processes run unpinned",
    );
    const server = await startListServer(cpus?.server);
    const target = await targetFor(server.url, context);
    const signatures: Record<string, number> = {};
    for (const name of libraries) {
      const call = await createListCall(name, target);
      await server.countTokens();
      await Promise.all(Array.from({ length: 1000 }, () => call()));
      signatures[name] = await server.takeTokenCount();
      context.log(`${name}: ${signatures[name]} signature(s) for 1,000 concurrent requests`);
    }
    const script = await compiledWorker(context.workDir, "throughput");
    const runs: ThroughputRun[] = [];
    const { rounds, requests, concurrency } = context;
    for (const node of [process.execPath, ...context.otherNodes]) {
      const early = await roundsOn(node, script, target, cpus?.clients, {
        clients: throughputClients,
        rounds: wholeDesigns(rounds * processSetsPerRound, throughputClients.length),
        warmUpRequests: 1000,
        requests,
        concurrency,
      });
      const steady = await roundsOn(node, script, target, cpus?.clients, {
        clients: steadyClients,
        rounds: wholeDesigns(rounds, steadyClients.length),
        warmUpRequests: steadyWarmUpRequests,
        requests: steadyRequests,
        concurrency,
      });
      runs.push({ ...early, steadyPerSecond: steady.perSecond });
      context.log(`throughput measured on Node.js ${early.node}`);
    }
    await server.close();
    return { signatures, cpus, runs };
  },
  render({ signatures, cpus, runs }, context) {
    return [
      ...runs.flatMap((run, index) => renderRun(run, index === 0, cpus, context)),
      "## Signatures for 1,000 concurrent requests (target: 1)",
      "",
      "| client | signatures |",
      "| --- | ---: |",
      ...Object.entries(signatures).map(([name, count]) => `| ${name} | ${count} |`),
      "",
    ];
  },
};

/**
 * The rounds of `plan`, the clients' processes run by the Node.js binary `node` on the CPUs
 * `cpus` (where the system puts them when `undefined`).
 */
async function roundsOn(
  node: string,
  script: string,
  target: Target,
  cpus: string | undefined,
  { clients, rounds, warmUpRequests, requests, concurrency }: RoundPlan,
): Promise<Rounds> {
  const run: Rounds = {
    node: "",
    perSecond: {},
    peakRssBytes: {},
    pageFaults: {},
    mainThreadMicros: {},
    otherThreadsMicros: {},
  };
  for (let round = 0; round < rounds; round++) {
    const order = balanced(clients, round);
    const workers = new Map<ClientName, RoundWorker>();
    for (const name of order) {
      const worker = await startWorker(node, script, cpus, { name, target, concurrency });
      run.node = worker.node;
      workers.set(name, worker);
    }
    const block = Math.ceil(requests / blocksPerRound);
    // Warmed up the way they are timed, in interleaved blocks. Warmed up one after another, the
    // first client waited stopped for seconds (the server closes an idle connection after 5),
    // and its blocks ran at 0.91 of the round's mean where the last one's ran at 1.20 (steady
    // state, Node.js 20); interleaved, every place in the order runs within 3% of the mean.
    for (const name of interleaved(order, Math.ceil(warmUpRequests / block))) {
      await workers.get(name)!.ask({ block });
    }
    // What each client's blocks took in all, summed block by block.
    const totals = new Map<ClientName, BlockAnswer>(
      order.map((name) => [name, { seconds: 0, pageFaults: 0, threads: { main: 0, others: 0 } }]),
    );
    for (const name of interleaved(order, blocksPerRound)) {
      const answer = (await workers.get(name)!.ask({ block })) as BlockAnswer;
      totals.set(name, added(totals.get(name)!, answer));
    }
    const timed = block * blocksPerRound;
    for (const name of order) {
      const { seconds, pageFaults, threads } = totals.get(name)!;
      (run.perSecond[name] ??= []).push(timed / seconds);
      (run.pageFaults[name] ??= []).push(pageFaults / timed);
      if (threads) {
        (run.mainThreadMicros[name] ??= []).push((threads.main / timed) * 1e6);
        (run.otherThreadsMicros[name] ??= []).push((threads.others / timed) * 1e6);
      }
      const answer = await workers.get(name)!.ask({ done: true });
      (run.peakRssBytes[name] ??= []).push((answer as { peakRssBytes: number }).peakRssBytes);
    }
  }
  return run;
}

/** Two blocks' figures summed; threads unknown once either block could not tell them apart. */
function added(total: BlockAnswer, block: BlockAnswer): BlockAnswer {
  return {
    seconds: total.seconds + block.seconds,
    pageFaults: total.pageFaults + block.pageFaults,
    threads: total.threads &&
      block.threads && {
        main: total.threads.main + block.threads.main,
        others: total.threads.others + block.threads.others,
      },
  };
}

function renderRun(
  run: ThroughputRun,
  first: boolean,
  cpus: CpuSplit | undefined,
  context: BenchContext,
): string[] {
  const { node, perSecond, peakRssBytes, pageFaults, steadyPerSecond } = run;
  const of = (name: string) => median(perSecond[name]!);
  const { ratio, byRound } = ratiosOf(perSecond);
  const table = [
    "| client | requests/s (median) | spread of rounds | of raw fetch | of openapi-fetch alone | of openapi-fetch alone, ratio of medians | peak RSS (median) | page faults a request (median) | CPU µs a request: main thread + other threads (median) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...throughputClients.map(
      (name) =>
        `| ${name} | ${Math.round(of(name))} | ${spread(perSecond[name]!)} | ${ratio(name, "raw fetch").toFixed(3)} | ${ratio(name, "openapi-fetch alone").toFixed(3)} | ${ratioOfMedians(perSecond, name, "openapi-fetch alone").toFixed(3)} | ${mb(median(peakRssBytes[name]!))} | ${faultsOf(pageFaults[name]!)} | ${threadsOf(run, name)} |`,
    ),
    "",
  ];
  const target = `asc-kit's ratio to openapi-fetch alone, round by round: ${byRound("asc-kit", "openapi-fetch alone")}.`;
  const likeForLike = `asc-kit's ratio to openapi-fetch with a timeout per call is ${ratio("asc-kit", "openapi-fetch, a timeout per call").toFixed(3)}, round by round ${byRound("asc-kit", "openapi-fetch, a timeout per call")}`;
  const overNodeFetch = `over \`createNodeFetch\`, its ratio to openapi-fetch alone, round by round: ${byRound("asc-kit over createNodeFetch", "openapi-fetch alone")}.`;
  const steady = renderSteady(steadyPerSecond, context);
  const threads = threadsLikeForLike(run);
  if (!first) {
    return [
      `### The same on Node.js ${node} (the clients' processes on that Node.js, the same rounds)`,
      "",
      ...table,
      target,
      "",
      `Like for like, ${likeForLike}; ${overNodeFetch}`,
      "",
      ...(threads ? [threads, ""] : []),
      ...steady,
    ];
  }
  return [
    `## Throughput (${context.requests} requests × ${perSecond["asc-kit"]!.length} rounds, concurrency ${context.concurrency}; a loopback server in its own process answers like the list endpoint; each client in a fresh process per round, its requests in ${blocksPerRound} blocks interleaved with the other clients' blocks; Node.js ${node})`,
    "",
    ...table,
    placement(cpus),
    "",
    "The ratios are the median of each round's own ratio (the column marked ratio of medians divides the two medians instead, for comparison; where they differ, the machine moved between rounds): the clients' blocks interleave within a round, so that a machine that slows down or speeds up between rounds moves every client alike. Each round puts the clients in another order, so that over the rounds each client's blocks come right after every other client's equally often: with one order rotated, the client whose blocks followed appstore-connect-sdk's ran up to 10% slower on Node.js 24, whichever client was put there. The warm-up requests run in interleaved blocks too, untimed, so that no client's process waits stopped for seconds before its first timed block: warmed up one after another, a round's first client ran at 0.91 of the round's mean at steady state on Node.js 20, and its last at 1.20.",
    "",
    `Target: asc-kit at least 0.95 of openapi-fetch alone, and ahead of every peer. ${target}`,
    "",
    "The page-fault column counts the page faults a client's process took during its timed blocks, per request: memory touched for the first time, most of it the fresh pages of V8's young generation, which grows in these requests (and sooner the more of each request's objects survive a young collection). On a virtual machine a fault can cost several microseconds, so the column shows how much of a client's time is its heap growing rather than its own code.",
    "",
    "The last column splits the CPU time of a client's process in its timed blocks, per request: its main thread, where the JavaScript runs (the client's code, the runtime's fetch, and the page faults and young collections that fall there), and its other threads, V8's compilers and collector helpers. A client whose other threads take more is paying in compilation or collection; one whose main thread takes more is running more code there, or faulting more pages in.",
    "",
    `The default asc-kit client gives each attempt a timeout that aborts it, and so hands the runtime's fetch a signal of its own for every request; the peers and openapi-fetch alone have no timeout. \`openapi-fetch, a timeout per call\` is openapi-fetch given what its users write for one, \`fetch(request, { signal: AbortSignal.timeout(30_000) })\`: like for like, ${likeForLike}.`,
    "",
    ...(threads ? [threads, ""] : []),
    `The last row is the same client given \`createNodeFetch()\` from \`@asc-kit/core/node\` as its fetch: Node.js's own HTTP client over keep-alive connections, each body read into one buffer and handed to the client already read, so that no stream is built for it. It is not the default, because it leaves out what is set up for the runtime's fetch (an undici dispatcher, a proxy set for fetch, a mock agent); ${overNodeFetch}`,
    "",
    ...steady,
  ];
}

/** A client's CPU µs a request, main thread + other threads, or a dash where none were told apart. */
function threadsOf({ mainThreadMicros, otherThreadsMicros }: Rounds, name: string): string {
  const main = mainThreadMicros[name];
  const others = otherThreadsMicros[name];
  if (!main?.length || !others?.length) return "—";
  return `${decimal(median(main))} + ${decimal(median(others))}`;
}

/**
 * Where asc-kit's CPU time differs from openapi-fetch's with a timeout per call, thread by
 * thread (the median of each round's own difference), or nothing where threads were not told
 * apart in every round.
 */
function threadsLikeForLike({ mainThreadMicros, otherThreadsMicros }: Rounds): string | undefined {
  const base = "openapi-fetch, a timeout per call";
  const rounds = [mainThreadMicros, otherThreadsMicros].map((micros) => ({
    client: micros["asc-kit"] ?? [],
    base: micros[base] ?? [],
  }));
  if (rounds.some(({ client, base }) => !client.length || client.length !== base.length)) {
    return undefined;
  }
  const [main, others] = rounds.map(({ client, base }) =>
    median(paired(client, base, (value, baseValue) => value - baseValue)),
  );
  return `Against openapi-fetch with a timeout per call, asc-kit's main thread took ${signed(main!)} µs a request and its other threads ${signed(others!)} µs (the median of each round's own difference).`;
}

/** A client's page faults a request, or a dash where the system counted none. */
function faultsOf(byRound: number[]): string {
  return byRound.some((faults) => faults > 0) ? decimal(median(byRound), 2) : "—";
}

/** Where the processes ran, and why. */
function placement(cpus: CpuSplit | undefined): string {
  if (!cpus) {
    return "The processes ran where the system put them (no `taskset`, or a single CPU): a client's garbage-collector threads then compete with the server, and rounds spread by 20% or more.";
  }
  return `The server's process ran on CPU ${cpus.server} alone, every client's on CPU ${cpus.clients} (Linux's \`taskset\`, threads included). Unpinned, a client's garbage-collector threads took the server's CPU at moments of their own, and the same client's rate moved by up to 20% from one process to the next; pinned, each client pays for all of its own work, collector included, on CPUs of its own, and the ratios say what each costs a request. A client's process is stopped while the others' blocks run, so that its JIT and collector threads finish their work in its own blocks, not in another client's on the same CPU.`;
}

/**
 * The steady-state rounds: the rounds above time requests 1,001 to 4,000 of a fresh process,
 * while the JIT is still at work on every client's code; these time a process that has made
 * many more, as a long-running service's is.
 */
function renderSteady(perSecond: Record<string, number[]>, context: BenchContext): string[] {
  const { ratio, byRound } = ratiosOf(perSecond);
  return [
    `At steady state (each client in a fresh process per round that first makes ${steadyWarmUpRequests} requests, then ${steadyRequests} timed, both in blocks of ${steadyRequests / blocksPerRound} interleaved with the other clients'; ${perSecond["asc-kit"]!.length} rounds, concurrency ${context.concurrency}):`,
    "",
    "| client | requests/s (median) | spread of rounds | of openapi-fetch alone | of openapi-fetch alone, ratio of medians | of openapi-fetch with a timeout per call |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...steadyClients.map(
      (name) =>
        `| ${name} | ${Math.round(median(perSecond[name]!))} | ${spread(perSecond[name]!)} | ${ratio(name, "openapi-fetch alone").toFixed(3)} | ${ratioOfMedians(perSecond, name, "openapi-fetch alone").toFixed(3)} | ${ratio(name, "openapi-fetch, a timeout per call").toFixed(3)} |`,
    ),
    "",
    `asc-kit's ratio to openapi-fetch alone, round by round: ${byRound("asc-kit", "openapi-fetch alone")}; to openapi-fetch with a timeout per call: ${byRound("asc-kit", "openapi-fetch, a timeout per call")}.`,
    "",
  ];
}

/**
 * The ratio of the two clients' median rates: beside the median of paired ratios, so that a
 * reader sees when the two disagree (a round where both moved together shifts only the latter).
 */
function ratioOfMedians(perSecond: Record<string, number[]>, name: string, to: string): number {
  return median(perSecond[name]!) / median(perSecond[to]!);
}

/**
 * One client's rate against another's. Ratios are paired: taken within each round, where the
 * clients' blocks interleave, then the median of the rounds. A machine that drifts between
 * rounds moves both sides alike.
 */
function ratiosOf(perSecond: Record<string, number[]>) {
  const ratios = (name: string, to: string) =>
    paired(perSecond[name]!, perSecond[to]!, (value, base) => value / base);
  return {
    ratio: (name: string, to: string) => median(ratios(name, to)),
    byRound: (name: string, to: string) =>
      ratios(name, to)
        .map((value) => decimal(value, 2))
        .join(", "),
  };
}

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

interface RoundWorker {
  /** The worker's Node.js version. */
  node: string;
  ask(step: RoundStep): Promise<RoundAnswer>;
}

/**
 * A client's worker for one round on the Node.js binary `node` (on the CPUs `cpus`, if given),
 * stopped until asked.
 */
async function startWorker(
  node: string,
  script: string,
  cpus: string | undefined,
  setUp: RoundSetUp,
): Promise<RoundWorker> {
  const child = fork(script, {
    ...forkOn(cpus, node, []),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let failed: Error | undefined;
  let pending:
    { resolve: (answer: RoundAnswer) => void; reject: (error: Error) => void } | undefined;
  child.on("message", (answer) => {
    const waiting = pending;
    pending = undefined;
    waiting?.resolve(answer as RoundAnswer);
  });
  child.once("exit", (code) => {
    const fail = () => {
      failed = new Error(`${setUp.name}: the worker on ${node} exited (${code})`);
      pending?.reject(failed);
    };
    // A worker exits as soon as its last answer is sent, and the exit can be seen before the
    // answer is read: every message is out once the channel has closed.
    if (child.connected) child.once("disconnect", fail);
    else fail();
  });
  const next = () =>
    new Promise<RoundAnswer>((resolve, reject) => {
      if (failed) return reject(failed);
      pending = { resolve, reject };
    });
  const ready = next();
  child.send(setUp);
  const answer = (await ready) as { node: string };
  // A stopped worker cannot end with the bench: ended for it if the bench ends first.
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  child.once("exit", () => process.off("exit", kill));
  hold(child);
  return {
    node: answer.node,
    async ask(step) {
      release(child);
      const answer = next();
      child.send(step);
      const reply = await answer;
      if (!("done" in step)) hold(child);
      return reply;
    },
  };
}

/**
 * A worker is stopped between its steps (where the system can stop a process): an idle
 * client's JIT and collector threads finish their work on its own time, not on the CPU of the
 * client being timed, which they share when the clients are pinned.
 */
const stoppable = process.platform !== "win32";
const hold = (child: ChildProcess) => stoppable && child.kill("SIGSTOP");
const release = (child: ChildProcess) => stoppable && child.kill("SIGCONT");

export type { ClientName };
