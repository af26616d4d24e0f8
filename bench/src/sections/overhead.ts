import { createTokenProvider } from "@asc-kit/core";
import { clientNames, createListCall } from "../clients.ts";
import type { Target } from "../clients.ts";
import { interleaved, median, paired, rotated, spread } from "../context.ts";
import type { Section } from "../context.ts";
import { listPage } from "../server.ts";

/**
 * Calls per client per round, in short blocks interleaved with the other clients' blocks: two
 * identical clients measured in blocks of 1,000 calls came out up to 6 µs apart, and about 1 µs
 * apart in blocks of 100.
 */
const callsPerRound = 20_000;
const blocksPerRound = 100;

/**
 * What each client's own layers cost per call, without a network: every client is given a
 * fetch that answers at once with a ready list page, and makes calls one after another. The
 * stable figure on a noisy machine: it holds no sockets, no server and no other process.
 */
export const overhead: Section<Record<string, number[]>> = {
  name: "overhead",
  async measure(context) {
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
      privateKey: context.privateKeyPem,
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
    for (let round = 0; round < context.rounds; round++) {
      const order = rotated([...calls], round);
      const spent = new Map<string, number>();
      for (const [name, call] of interleaved(order, blocksPerRound)) {
        spent.set(name, (spent.get(name) ?? 0) + (await millisecondsFor(call)));
      }
      for (const [name, milliseconds] of spent) {
        (micros[name] ??= []).push((milliseconds * 1000) / callsPerRound);
      }
    }
    context.log("per-call overhead measured");
    return micros;
  },
  render(micros, context) {
    const of = (name: string) => median(micros[name]!);
    // Differences are paired: taken within each round, then the median of the rounds.
    const differences = (name: string) =>
      paired(micros[name]!, micros["openapi-fetch alone"]!, (value, base) => value - base);
    const above = (name: string) => median(differences(name));
    return [
      `## Per-call cost in process (a fetch that answers at once; ${callsPerRound} calls one after another × ${context.rounds} rounds, in ${blocksPerRound} blocks interleaved with the other clients')`,
      "",
      "| client | µs per call (median) | spread of rounds | above openapi-fetch alone |",
      "| --- | ---: | ---: | ---: |",
      ...Object.keys(micros).map(
        (name) =>
          `| ${name} | ${of(name).toFixed(1)} | ${spread(micros[name]!)} | ${(above(name) >= 0 ? "+" : "−") + Math.abs(above(name)).toFixed(1)} µs |`,
      ),
      "",
      `The differences are the median of each round's own difference, so that a machine that drifts between rounds moves both sides alike; within a round the blocks are short (${callsPerRound / blocksPerRound} calls, a few ms), because a shared machine's speed changes from one tenth of a second to the next and a client's blocks should meet it as the others' do.`,
      "",
      `The default asc-kit client gives every attempt its own timeout (an AbortController and a deadline on a shared timer) and reads the body within it; the peers have no timeout. The attempt's signal is made when fetch first reads it: this fetch never does, so no call here makes one, while the runtime's fetch does (on Node.js 20 a signal costs some 3.5 µs; on Node.js 24, under 0.1 µs). The last row turns retries and the timeout off: in this run they cost ${(above("asc-kit") - above("asc-kit (no retries, no timeout)")).toFixed(1)} µs a call, on Node.js ${process.versions.node}.`,
      "",
      `Target: asc-kit at most openapi-fetch alone + 5 µs. asc-kit's difference round by round: ${differences(
        "asc-kit",
      )
        .map((value) => value.toFixed(1))
        .join(", ")} µs.`,
      "",
    ];
  },
};
