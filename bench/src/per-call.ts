import { createTokenProvider } from "@asc-kit/core";
import { clientNames, createListCall } from "./clients.ts";
import type { Target } from "./clients.ts";
import { balanced, interleaved, wholeDesigns } from "./context.ts";
import { listPage } from "./server.ts";

/**
 * Calls per client per round, in short blocks interleaved with the other clients' blocks: two
 * identical clients measured in blocks of 1,000 calls came out up to 6 µs apart, and about 1 µs
 * apart in blocks of 100.
 */
export const callsPerRound = 20_000;
export const blocksPerRound = 100;

/** The per-call figures of one runtime: its version, and each client's µs per call by round. */
export interface PerCall {
  node: string;
  micros: Record<string, number[]>;
}

/**
 * Every client's µs per call, round by round, measured in this process: at least `rounds`
 * rounds, in whole passes of the balanced order.
 */
export async function measurePerCall(
  privateKeyPem: string,
  rounds: number,
): Promise<Record<string, number[]>> {
  const fakeFetch = async () =>
    new Response(listPage, {
      status: 200,
      headers: {
        "content-type": "application/json",
        "x-rate-limit": "user-hour-lim:3500;user-hour-rem:3499;",
      },
    });
  const target: Target = {
    baseUrl: "https://api.appstoreconnect.apple.com",
    keyId: "BENCHKEY01",
    issuerId: "57246542-96fe-1a63-e053-0824d011072a",
    privateKey: privateKeyPem,
    token: "",
    fetch: fakeFetch,
  };
  target.token = await createTokenProvider(target).getToken();
  const calls = new Map<string, () => Promise<void>>();
  for (const name of [...clientNames, "asc-kit (no retries, no timeout)" as const]) {
    calls.set(name, await createListCall(name, target));
  }
  const block = callsPerRound / blocksPerRound;
  const millisecondsFor = async (call: () => Promise<void>) => {
    const start = performance.now();
    for (let index = 0; index < block; index++) await call();
    return performance.now() - start;
  };
  for (const call of calls.values()) await millisecondsFor(call);
  const micros: Record<string, number[]> = {};
  for (let round = 0; round < wholeDesigns(rounds, calls.size); round++) {
    const order = balanced([...calls], round);
    const spent = new Map<string, number>();
    for (const [name, call] of interleaved(order, blocksPerRound)) {
      spent.set(name, (spent.get(name) ?? 0) + (await millisecondsFor(call)));
    }
    for (const [name, milliseconds] of spent) {
      (micros[name] ??= []).push((milliseconds * 1000) / callsPerRound);
    }
  }
  return micros;
}
