/**
 * One client for one round, in a process of its own: it warms up, then makes blocks of calls
 * when told to (`concurrency` under way), reporting each block's time, and at the end the
 * process's peak RSS. The round interleaves the blocks of every client, so that a machine
 * slowing down or speeding up touches them all alike.
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
  { ready: true; node: string } | { seconds: number } | { peakRssBytes: number };

async function secondsFor(call: () => Promise<void>, requests: number, concurrency: number) {
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
  return (performance.now() - start) / 1000;
}

process.once("message", async (message) => {
  const { name, target, concurrency, warmUpRequests } = message as RoundSetUp;
  const call = await createListCall(name, target);
  await secondsFor(call, warmUpRequests, concurrency);
  process.on("message", async (step: RoundStep) => {
    if ("done" in step) {
      const answer: RoundAnswer = { peakRssBytes: process.resourceUsage().maxRSS * 1024 };
      return process.send!(answer, () => process.exit(0));
    }
    const answer: RoundAnswer = { seconds: await secondsFor(call, step.block, concurrency) };
    process.send!(answer);
  });
  const ready: RoundAnswer = { ready: true, node: process.version };
  process.send!(ready);
});
