/**
 * One round of one client, in a process of its own: warm up, then make `requests` calls with
 * `concurrency` under way, and report requests per second and the process's peak RSS.
 */
import { createListCall } from "../clients.ts";
import type { ClientName, Target } from "../clients.ts";

export interface RoundRequest {
  name: ClientName;
  target: Target;
  requests: number;
  concurrency: number;
}
export interface RoundReport {
  perSecond: number;
  peakRssBytes: number;
}

async function callsPerSecond(call: () => Promise<void>, requests: number, concurrency: number) {
  let started = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < requests) {
        started++;
        await call();
      }
    }),
  );
  return requests / ((performance.now() - start) / 1000);
}

process.once("message", async (message) => {
  const { name, target, requests, concurrency } = message as RoundRequest;
  const call = await createListCall(name, target);
  await callsPerSecond(call, Math.min(requests, 1000), concurrency);
  const perSecond = await callsPerSecond(call, requests, concurrency);
  const report: RoundReport = {
    perSecond,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.send!(report);
});
