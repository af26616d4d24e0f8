import { describe, expect, it } from "vitest";
import { readBounded } from "./body.js";

/** A stream of `chunks`, then an end, or an error when `failAfter` is set. */
function streamOf(chunks: Uint8Array[], failAfter = false) {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled < chunks.length) controller.enqueue(chunks[pulled++]!);
      else if (failAfter) controller.error(new TypeError("terminated"));
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe("readBounded", () => {
  it("reads a body that fits, across chunks, exactly to the limit", async () => {
    const { stream } = streamOf([bytes(1, 2), bytes(3), bytes(4, 5)]);
    const read = await readBounded(stream, 5);
    expect(read).toEqual({ bytes: bytes(1, 2, 3, 4, 5), complete: true });
  });

  it("keeps the first bytes of a longer body, stops reading and cancels the stream", async () => {
    const { stream, pulled, cancelled } = streamOf([bytes(1, 2), bytes(3, 4), bytes(5), bytes(6)]);
    const read = await readBounded(stream, 3);
    expect(read).toEqual({ bytes: bytes(1, 2, 3), complete: false });
    expect(pulled()).toBeLessThanOrEqual(3);
    expect(cancelled()).toBe(true);
  });

  it("reads nothing of a missing body, and nothing past a limit of 0", async () => {
    expect(await readBounded(null, 10)).toEqual({ bytes: bytes(), complete: true });
    expect(await readBounded(streamOf([bytes(1)]).stream, 0)).toEqual({
      bytes: bytes(),
      complete: false,
    });
  });

  it("throws the stream's error after cancelling it", async () => {
    const { stream } = streamOf([bytes(1)], true);
    await expect(readBounded(stream, 10)).rejects.toThrow("terminated");
  });

  it("refuses a limit that is no number of bytes", async () => {
    for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(readBounded(null, limit)).rejects.toThrow(TypeError);
    }
  });
});
