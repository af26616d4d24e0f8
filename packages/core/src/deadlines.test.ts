import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDeadlines, oneTimer, timerEach } from "./deadlines.js";
import type { Deadline } from "./deadlines.js";

const unref = (timer: ReturnType<typeof setTimeout>) => void timer.unref();

describe.each([
  ["one timer for all", (timeoutMs: number) => oneTimer(timeoutMs, unref)],
  ["a timer each", timerEach],
])("deadlines (%s)", (_name, create) => {
  beforeEach(
    () => void vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }),
  );
  afterEach(() => void vi.useRealTimers());

  it("expires a deadline when it falls due, and never one ended before", () => {
    const deadlines = create(1000);
    const expired: string[] = [];
    const first = deadlines.start(() => expired.push("first"));
    vi.advanceTimersByTime(600);
    deadlines.end(first);
    deadlines.start(() => expired.push("second"));
    // The first one's due time: the second has 600 ms to go.
    vi.advanceTimersByTime(400);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(599);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["second"]);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual(["second"]);
  });

  it("expires deadlines due together in the order they started, and later ones later", () => {
    const deadlines = create(1000);
    const expired: string[] = [];
    deadlines.start(() => expired.push("a"));
    deadlines.start(() => expired.push("b"));
    vi.advanceTimersByTime(10);
    const c = deadlines.start(() => expired.push("c"));
    deadlines.start(() => expired.push("d"));
    deadlines.end(c);
    vi.advanceTimersByTime(990);
    expect(expired).toEqual(["a", "b"]);
    vi.advanceTimersByTime(10);
    expect(expired).toEqual(["a", "b", "d"]);
  });

  it("lets an expiring deadline start another, which runs its whole length", () => {
    const deadlines = create(1000);
    const expired: number[] = [];
    const retry = () => {
      expired.push(performance.now());
      if (expired.length < 3) deadlines.start(retry);
    };
    const start = performance.now();
    deadlines.start(retry);
    vi.advanceTimersByTime(5000);
    expect(expired.map((at) => at - start)).toEqual([1000, 2000, 3000]);
  });

  it("expires exactly the deadlines not ended in time, each when due, over a long random run", () => {
    const timeoutMs = 1000;
    const deadlines = create(timeoutMs);
    // A fixed seed: the same run every time, many interleavings of starts, ends and waits.
    let seed = 0x2545f491;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % below;
    };
    const live = new Map<number, { started: number; deadline: Deadline }>();
    const expired: Array<[number, number]> = [];
    const expected: Array<[number, number]> = [];
    for (let step = 0, id = 0; step < 2000; step++) {
      const choice = random(3);
      if (choice === 0) {
        const mine = id++;
        const started = performance.now();
        const deadline = deadlines.start(() => {
          expired.push([mine, performance.now() - started]);
          live.delete(mine);
        });
        live.set(mine, { started, deadline });
      } else if (choice === 1 && live.size > 0) {
        const ids = [...live.keys()];
        const mine = ids[random(ids.length)]!;
        deadlines.end(live.get(mine)!.deadline);
        live.delete(mine);
      } else {
        // What must expire during this wait: the live ones due by its end, oldest first.
        const until = performance.now() + random(400);
        for (const [mine, { started }] of live) {
          if (started + timeoutMs <= until) expected.push([mine, timeoutMs]);
        }
        vi.advanceTimersByTime(until - performance.now());
        expect(expired).toEqual(expected);
      }
    }
    expect(expected.length).toBeGreaterThan(100);
  });

  it("ends a deadline twice, or one already expired, without touching the others", () => {
    const deadlines = create(1000);
    const expired: string[] = [];
    const a = deadlines.start(() => expired.push("a"));
    const b = deadlines.start(() => expired.push("b"));
    deadlines.end(a);
    deadlines.end(a);
    vi.advanceTimersByTime(1000);
    deadlines.end(b);
    const c = deadlines.start(() => expired.push("c"));
    vi.advanceTimersByTime(1000);
    deadlines.end(c);
    expect(expired).toEqual(["b", "c"]);
  });
});

describe("createDeadlines", () => {
  it("leaves no timer holding the process open once its attempts are done", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout");
    const before = timers().length;
    const deadlines = createDeadlines(600_000);
    for (let i = 0; i < 3; i++) {
      const deadline = deadlines.start(() => expect.fail("expired"));
      await Promise.resolve();
      deadlines.end(deadline);
    }
    // Where the runtime can let go of a timer, the one the deadlines share stays armed, but
    // without holding the process: a script exits right after its last call.
    expect(timers()).toHaveLength(before);
  });
});
