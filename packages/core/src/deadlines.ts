declare const pending: unique symbol;
/** A pending deadline, as `start` gave it: give it back to `end`. What it holds is the kind's own. */
export type Deadline = { readonly [pending]: true };

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
export type Release = (timer: Timer) => void;

type Timer = ReturnType<typeof setTimeout>;

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

/** Deadlines with a timer each: the deadline is its timer. Exported for tests, as is {@link oneTimer}. */
export function timerEach(timeoutMs: number): Deadlines {
  return {
    start: (expire) => setTimeout(expire, timeoutMs) as unknown as Deadline,
    end: (deadline) => clearTimeout(deadline as unknown as Timer),
  };
}

/**
 * A deadline of the shared timer: when it falls due, what then runs, and its neighbours in the
 * list of those waiting (none once it is off the list).
 */
interface Pending {
  readonly due: number;
  readonly expire: () => void;
  previous: Pending | undefined;
  next: Pending | undefined;
}

/**
 * One timer for all the deadlines. Every deadline has the same length, so the order they start
 * in is the order they fall due: they wait in a list, newest last. The timer is armed for the
 * first; a deadline ended before it is only unlinked, and when the timer fires it expires what
 * is due and is armed for the next, if any. A list of their own rather than a Set: on Node.js 20
 * a Set's add and delete for every attempt cost more than the rest of the deadline.
 */
export function oneTimer(timeoutMs: number, release: Release): Deadlines {
  // The list's ends meet at this sentinel: first is `waiting.next`, last is `waiting.previous`.
  const waiting = { due: Infinity, expire: () => undefined } as Pending;
  waiting.previous = waiting.next = waiting;
  let armed = false;
  const unlink = (deadline: Pending) => {
    if (deadline.next === undefined) return;
    deadline.previous!.next = deadline.next;
    deadline.next.previous = deadline.previous;
    deadline.previous = deadline.next = undefined;
  };
  function fire() {
    armed = false;
    const now = performance.now();
    const due: Pending[] = [];
    while (waiting.next!.due <= now) {
      const deadline = waiting.next!;
      unlink(deadline);
      due.push(deadline);
    }
    if (waiting.next !== waiting) arm(waiting.next!.due - now);
    // Expiring may start another attempt, and so another deadline: once the list is settled.
    for (const deadline of due) deadline.expire();
  }
  function arm(delay: number) {
    armed = true;
    release(setTimeout(fire, delay));
  }
  return {
    start(expire) {
      const last = waiting.previous!;
      const deadline: Pending = {
        due: performance.now() + timeoutMs,
        expire,
        previous: last,
        next: waiting,
      };
      last.next = waiting.previous = deadline;
      if (!armed) arm(timeoutMs);
      return deadline as unknown as Deadline;
    },
    end: (deadline) => unlink(deadline as unknown as Pending),
  };
}
