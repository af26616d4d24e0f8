/**
 * One client for one round, in a process of its own: it makes blocks of calls when told to
 * (`concurrency` under way), reporting each block's time, page faults and threads' CPU time,
 * and at the end the process's peak RSS. The round interleaves the blocks of every client, its
 * warm-up included, so that a machine slowing down or speeding up touches them all alike.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createListCall } from "../clients.ts";
import type { ClientName, Target } from "../clients.ts";

export interface RoundSetUp {
  name: ClientName;
  target: Target;
  concurrency: number;
}
/** What the round asks of a worker: a block of calls, or its peak RSS and the end. */
export type RoundStep = { block: number } | { done: true };
export type RoundAnswer = { ready: true; node: string } | BlockAnswer | { peakRssBytes: number };

/** What a block took: its time, its page faults, and its threads' CPU time where known. */
export interface BlockAnswer {
  seconds: number;
  pageFaults: number;
  /** CPU seconds of the main thread, and of all the others (V8's compiler and collector helpers). */
  threads: ThreadSeconds | undefined;
}
export interface ThreadSeconds {
  main: number;
  others: number;
}

/**
 * The CPU time of this process's threads so far, the main thread's and the others', where the
 * system tells them apart (Linux's /proc, each thread's time on a CPU in ns); `undefined`
 * elsewhere. A thread that ends meanwhile takes its time with it: V8's helpers live as long as
 * the process.
 */
function threadSeconds(): ThreadSeconds | undefined {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return undefined;
  }
  const seconds = { main: 0, others: 0 };
  for (const tid of tids) {
    let nanoseconds: number;
    try {
      nanoseconds = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      continue;
    }
    if (!Number.isFinite(nanoseconds)) return undefined;
    seconds[Number(tid) === process.pid ? "main" : "others"] += nanoseconds / 1e9;
  }
  return seconds;
}

/**
 * The block's time, and the page faults the process took meanwhile (minor ones: memory mapped
 * but not yet touched, as a growing heap's fresh pages are; 0 where the system does not count
 * them).
 */
async function block(
  call: () => Promise<void>,
  requests: number,
  concurrency: number,
): Promise<BlockAnswer> {
  const faultsBefore = process.resourceUsage().minorPageFault;
  const threadsBefore = threadSeconds();
  let started = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, requests) }, async () => {
      while (started < requests) {
        started++;
        await call();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const pageFaults = process.resourceUsage().minorPageFault - faultsBefore;
  const threadsAfter = threadSeconds();
  const threads =
    threadsBefore && threadsAfter
      ? {
          main: threadsAfter.main - threadsBefore.main,
          others: threadsAfter.others - threadsBefore.others,
        }
      : undefined;
  return { seconds, pageFaults, threads };
}

process.once("message", async (message) => {
  const { name, target, concurrency } = message as RoundSetUp;
  const call = await createListCall(name, target);
  process.on("message", async (step: RoundStep) => {
    if ("done" in step) {
      const answer: RoundAnswer = { peakRssBytes: process.resourceUsage().maxRSS * 1024 };
      return process.send!(answer, () => process.exit(0));
    }
    const answer: RoundAnswer = await block(call, step.block, concurrency);
    process.send!(answer);
  });
  const ready: RoundAnswer = { ready: true, node: process.version };
  process.send!(ready);
});
