/** What {@link readBounded} read of a body. */
export interface BoundedBody {
  /** The body's first bytes, at most the limit. */
  bytes: Uint8Array;
  /** False when the body went on past the limit: the rest was not read, and the stream is cancelled. */
  complete: boolean;
}

/**
 * Reads a body up to `limit` bytes and no further, whatever it declares: past the limit the
 * stream is cancelled, so a sender cannot make the reader hold more than `limit` bytes. The
 * caller decides what too much means: refuse it (`complete` false) or keep the beginning.
 * A stream that fails is cancelled and its error thrown.
 *
 * @example
 * ```ts
 * import { readBounded } from "@asc-kit/errors";
 *
 * const { bytes, complete } = await readBounded(new Response("a body").body, 64 * 1024);
 * if (!complete) throw new Error("The body is larger than 64 KiB.");
 * console.log(new TextDecoder().decode(bytes)); // "a body"
 * ```
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null | undefined,
  limit: number,
): Promise<BoundedBody> {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new TypeError(`limit must be a whole number of bytes, 0 or more, not ${limit}.`);
  }
  if (!body) return { bytes: new Uint8Array(0), complete: true };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > limit) {
        chunks.push(value.subarray(0, limit - size));
        size = limit;
        complete = false;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  }
  if (!complete) await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, complete };
}
