/** A pending deadline: `expire` runs when it falls due, unless it is ended first. */
export interface Deadline {
  readonly due: number;
  readonly expire: () => void;
  /** Its own timer, where deadlines do not share one. */
  readonly timer?: ReturnType<typeof setTimeout>;
}

/** Deadlines of one length: each attempt starts one and ends it when it is done. */
export interface Deadlines {
  start(expire: () => void): Deadline;
  end(deadline: Deadline): void;
}

/**
 * Deadlines of `timeoutMs` each. Where the runtime lets a timer not hold the process open
 * (Node.js, Bun, Deno), they share one timer that stays armed between attempts: one attempt
 * after another, a timer each cost more on Node.js 20 than the rest of the timeout (creating
 * and clearing the only timer of its length rebuilds the runtime's list for it every time).
 * Like Node.js's own `AbortSignal.timeout`, that timer does not hold the process open: the
 * connection an attempt waits on does. Elsewhere (browsers, Workers, whose timers belong to
 * the request that set them) each deadline has a timer of its own.
 *
 * @example
 * ```ts
 * const deadlines = createDeadlines(30_000);
 * const deadline = deadlines.start(() => controller.abort());
 * try { await work(); } finally { deadlines.end(deadline); }
 * ```
 */
export function createDeadlines(timeoutMs: number): Deadlines {
  // Chosen at the first deadline, not before: a Worker allows no timer outside a request.
  let chosen: Deadlines | undefined;
  return {
    start: (expire) => (chosen ??= choose(timeoutMs)).start(expire),
    end: (deadline) => chosen?.end(deadline),
  };
}

/** Lets a timer not hold the process open. */
export type Release = (timer: ReturnType<typeof setTimeout>) => void;

/** One timer for all where this runtime can release it (Node.js's and Bun's `unref`, Deno's own). */
function choose(timeoutMs: number): Deadlines {
  const probe = setTimeout(() => undefined, 0);
  clearTimeout(probe);
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: unknown) => void } }).Deno;
  const release: Release | undefined =
    typeof (probe as { unref?: unknown }).unref === "function"
      ? (timer) => void (timer as unknown as { unref(): void }).unref()
      : deno?.unrefTimer && ((timer) => deno.unrefTimer!(timer));
  return release ? oneTimer(timeoutMs, release) : timerEach(timeoutMs);
}

/** Deadlines with a timer each. Exported for tests, as is {@link oneTimer}. */
export function timerEach(timeoutMs: number): Deadlines {
  return {
    start: (expire) => ({
      due: performance.now() + timeoutMs,
      expire,
      timer: setTimeout(expire, timeoutMs),
    }),
    end: (deadline) => clearTimeout(deadline.timer),
  };
}

/**
 * One timer for all the deadlines. Every deadline has the same length, so the order they start
 * in (a Set's order) is the order they fall due. The timer is armed for the first; a deadline
 * ended before it is only removed, and when the timer fires it expires what is due and is
 * armed for the next, if any.
 */
export function oneTimer(timeoutMs: number, release: Release): Deadlines {
  const pending = new Set<Deadline>();
  let armed = false;
  const arm = (delay: number) => {
    armed = true;
    release(setTimeout(fire, delay));
  };
  function fire() {
    armed = false;
    const now = performance.now();
    const due: Deadline[] = [];
    for (const deadline of pending) {
      if (deadline.due > now) {
        arm(deadline.due - now);
        break;
      }
      due.push(deadline);
    }
    // Expiring may start another attempt, and so another deadline: after the walk.
    for (const deadline of due) {
      pending.delete(deadline);
      deadline.expire();
    }
  }
  return {
    start(expire) {
      const deadline = { due: performance.now() + timeoutMs, expire };
      pending.add(deadline);
      if (!armed) arm(timeoutMs);
      return deadline;
    },
    end: (deadline) => void pending.delete(deadline),
  };
}
