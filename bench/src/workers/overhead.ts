/**
 * The per-call figures on another Node.js binary: the bench forks this worker with that
 * binary, sends it the key and the rounds, and takes back every client's µs per call.
 */
import { measurePerCall } from "../per-call.ts";
import type { PerCall } from "../per-call.ts";

export interface PerCallSetUp {
  privateKeyPem: string;
  rounds: number;
}

process.once("message", async (message) => {
  const { privateKeyPem, rounds } = message as PerCallSetUp;
  const answer: PerCall = {
    node: process.version,
    micros: await measurePerCall(privateKeyPem, rounds),
  };
  process.send!(answer, () => process.exit(0));
});
