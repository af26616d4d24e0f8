/**
 * One client for one round, in a process of its own: it warms up, then makes blocks of calls
 * when told to (`concurrency` under way), reporting each block's time and page faults, and at
 * the end the process's peak RSS. The round interleaves the blocks of every client, so that a
 * machine slowing down or speeding up touches them all alike.
 */
import { createListCall } from "../clients.ts";
import type { ClientName, Target } from "../clients.ts";

export interface RoundSetUp {
  name: ClientName;
  target: Target;
  concurrency: number;
  warmUpRequests: number;
}
/** What the round asks of a worker: a block of calls, or its peak RSS and the end. */
export type RoundStep = { block: number } | { done: true };
export type RoundAnswer =
  | { ready: true; node: string }
  | { seconds: number; pageFaults: number }
  | { peakRssBytes: number };

/**
 * The block's time, and the page faults the process took meanwhile (minor ones: memory mapped
 * but not yet touched, as a growing heap's fresh pages are; 0 where the system does not count
 * them).
 */
async function block(call: () => Promise<void>, requests: number, concurrency: number) {
  const faultsBefore = process.resourceUsage().minorPageFault;
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
  return { seconds, pageFaults: process.resourceUsage().minorPageFault - faultsBefore };
}

process.once("message", async (message) => {
  const { name, target, concurrency, warmUpRequests } = message as RoundSetUp;
  const call = await createListCall(name, target);
  await block(call, warmUpRequests, concurrency);
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
