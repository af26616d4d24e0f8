import type PgBoss from "pg-boss";

/** A worker of one queue: wake it when work was queued in this process, stop it to close. */
export interface WorkerLoop {
  wake(): void;
  /** Stops taking jobs and resolves once the job under way is finished. */
  stop(): Promise<void>;
}

/**
 * Takes one job at a time from `queue` and completes or fails it, asking again at once after a
 * job and after `pollingMs` when there was none. Written over pg-boss's `fetch`, `complete` and
 * `fail` rather than its `work`, which waits the polling interval after every job and leaves
 * the promise of a completion unawaited: a database that restarts under it would end the
 * process. Here a completion that cannot be recorded is reported, and the job, still active,
 * expires and runs again, which the handlers take as a no-op once the work is done.
 */
export function startWorkerLoop<Data extends object>(
  boss: PgBoss,
  queue: string,
  pollingMs: number,
  handle: (job: PgBoss.JobWithMetadata<Data>) => Promise<void>,
  onError: (error: unknown) => void,
): WorkerLoop {
  let stopping = false;
  let wake: () => void = () => undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    while (!stopping) {
      let job: PgBoss.JobWithMetadata<Data> | undefined;
      try {
        [job] = await boss.fetch<Data>(queue, { batchSize: 1, includeMetadata: true });
      } catch (error) {
        onError(error);
      }
      if (!job) {
        if (!stopping) await pause(pollingMs);
        continue;
      }
      try {
        await handle(job);
        await boss.complete(queue, job.id).catch(onError);
      } catch (error) {
        const output = { message: error instanceof Error ? error.message : String(error) };
        await boss.fail(queue, job.id, output).catch(onError);
      }
    }
  })();
  return {
    wake: () => wake(),
    async stop() {
      stopping = true;
      wake();
      await loop;
    },
  };
}
