import { spawnSync } from "node:child_process";

/** The CPUs a loopback server runs on, and those its clients run on: never the same. */
export interface CpuSplit {
  server: string;
  clients: string;
}

/** What `fork` is given to run a Node.js binary with its flags, on chosen CPUs or not. */
export interface ForkOn {
  execPath: string;
  execArgv: string[];
}

/**
 * The CPUs this process may use, split: the last for the server, the others for the clients.
 * Unpinned on a 2-CPU machine, a client's garbage-collector threads took the server's CPU at
 * moments of their own, and the same client's rate moved by up to 20% from one process to the
 * next; pinned, by about 5% (one client process at a time). `undefined` where there is no
 * `taskset` (not Linux) or a single CPU: the processes then run wherever the system puts them.
 */
export function splitCpus(): CpuSplit | undefined {
  const answer = spawnSync("taskset", ["-c", "-p", String(process.pid)], { encoding: "utf8" });
  if (answer.status !== 0) return undefined;
  const cpus = cpuList(answer.stdout.slice(answer.stdout.lastIndexOf(":") + 1));
  if (cpus.length < 2 || cpus.length > maxCpus) return undefined;
  return { server: String(cpus.at(-1)), clients: cpus.slice(0, -1).join(",") };
}

/**
 * `fork`'s `execPath` and `execArgv` that run `node` with `execArgv` on `cpus` and nowhere else
 * (threads included), or wherever the system puts it when `cpus` is `undefined`. `taskset`
 * starts Node.js in its own place, so the IPC channel is kept.
 */
export function forkOn(cpus: string | undefined, node: string, execArgv: string[]): ForkOn {
  if (!cpus) return { execPath: node, execArgv };
  return { execPath: "taskset", execArgv: ["-c", cpus, node, ...execArgv] };
}

/** More CPUs than this in a list is not a list this machine gave: no pinning. */
const maxCpus = 4096;

/** The CPUs of a list such as `0-3,6`; none for what is not such a list. */
function cpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const range of list.trim().split(",")) {
    const [first, last = first] = range
      .split("-")
      .map((part) => (/^\d+$/.test(part) ? Number(part) : NaN));
    if (!Number.isInteger(first) || !Number.isInteger(last)) return [];
    for (let cpu = first!; cpu <= last! && cpus.length <= maxCpus; cpu++) cpus.push(cpu);
  }
  return cpus;
}
