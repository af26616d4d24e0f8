import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { JobOptions, PipelineEvent } from "../marketplace.js";

/** What a worker process is given. */
export interface WorkerConfig {
  databaseUrl: string;
  sandboxUrl: string;
  credentials: { keyId: string; issuerId: string; privateKey: string };
  root: string;
  baseUrl: string;
  jobs: JobOptions;
  workers?: number;
  /** Download links read at this rate (a slow network), to stop a worker in the middle. */
  bytesPerSecond?: number;
}

/** A worker process: the pipeline's workers on the built package, its events as JSON lines. */
export interface WorkerProcess {
  child: ChildProcess;
  events: PipelineEvent[];
  /** Resolves with the first event that matches. */
  next(match: (event: PipelineEvent) => boolean): Promise<PipelineEvent>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const program = `
const { openMarketplace, folderStorage } = await import(process.env.ASC_KIT_ENTRY);
const { createAppStoreConnectClient } = await import("@asc-kit/core");
const config = JSON.parse(process.env.ASC_KIT_WORKER);
const client = createAppStoreConnectClient({ ...config.credentials, baseUrl: config.sandboxUrl });
const slow = config.bytesPerSecond && (async (url, init) => {
  const answer = await fetch(url, init);
  if (!answer.body) return answer;
  const reader = answer.body.getReader();
  const body = new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      for (let at = 0; at < value.length; at += 16384) {
        await new Promise((resolve) => setTimeout(resolve, 16384 / config.bytesPerSecond * 1000));
        controller.enqueue(value.subarray(at, at + 16384));
      }
    },
  });
  return new Response(body, { status: answer.status, headers: answer.headers });
});
const marketplace = await openMarketplace({
  database: config.databaseUrl,
  client,
  storage: folderStorage(config.root, config.baseUrl),
  jobs: config.jobs,
  ...(slow ? { download: { fetch: slow, concurrency: 1 } } : {}),
  onEvent: (event) => process.stdout.write(JSON.stringify(event) + "\\n"),
});
await marketplace.work(config.workers ?? 1);
process.stdout.write(JSON.stringify({ kind: "ready" }) + "\\n");
process.on("SIGTERM", async () => { await marketplace.close(); process.exit(0); });
`;

export async function startWorker(config: WorkerConfig): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", program], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: {
      ...process.env,
      ASC_KIT_ENTRY: new URL("../../dist/index.js", import.meta.url).href,
      ASC_KIT_WORKER: JSON.stringify(config),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const events: PipelineEvent[] = [];
  const waiting: Array<{
    match: (event: PipelineEvent) => boolean;
    resolve(event: PipelineEvent): void;
  }> = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const event = JSON.parse(line) as PipelineEvent;
    events.push(event);
    for (const wait of waiting.splice(0)) {
      if (wait.match(event)) wait.resolve(event);
      else waiting.push(wait);
    }
  });
  const next = (match: (event: PipelineEvent) => boolean) =>
    new Promise<PipelineEvent>((resolve, reject) => {
      const found = events.find(match);
      if (found) return resolve(found);
      waiting.push({ match, resolve });
      void exited.then(() => reject(new Error("The worker process exited.")));
    });
  await next((event) => (event.kind as string) === "ready");
  return {
    child,
    events,
    next,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
