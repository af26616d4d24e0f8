/** The longest chunk-size line (extensions included) or trailer line taken. */
const maxLineBytes = 4096;
/** The most trailer bytes taken after the last chunk. */
const maxTrailerBytes = 64 * 1024;

/**
 * Decodes a body sent with `Transfer-Encoding: chunked`, from its bytes in whatever pieces they
 * arrive: the data goes on as views into those pieces, the framing is checked and dropped. Each
 * byte is looked at once, and a line is refused past 4 KiB.
 *
 * @example
 * ```ts
 * const decoder = new ChunkedDecoder();
 * decoder.push(new TextEncoder().encode("5\r\nhello\r\n0\r\n\r\n"), (data) => write(data));
 * decoder.done; // true
 * ```
 */
export class ChunkedDecoder {
  #state: "size" | "data" | "data-end" | "trailer" | "done" = "size";
  /** The line read so far, for the states that read lines. */
  #line = "";
  /** Bytes of the current chunk still to come. */
  #left = 0;
  #trailerBytes = 0;

  /** Whether the last chunk and its trailers are in: the body is complete. */
  get done(): boolean {
    return this.#state === "done";
  }

  /** Takes the next bytes; throws an `Error` that names what is malformed. */
  push(bytes: Uint8Array, onData: (data: Uint8Array) => void): void {
    let at = 0;
    while (at < bytes.length && this.#state !== "done") {
      if (this.#state === "data") {
        const take = Math.min(this.#left, bytes.length - at);
        onData(bytes.subarray(at, at + take));
        at += take;
        this.#left -= take;
        if (this.#left === 0) this.#state = "data-end";
        continue;
      }
      const newline = bytes.indexOf(10, at);
      const end = newline < 0 ? bytes.length : newline;
      if (this.#line.length + (end - at) > maxLineBytes) {
        throw new Error("the answer has a chunk line longer than 4 KiB");
      }
      this.#line += String.fromCharCode(...bytes.subarray(at, end));
      if (newline < 0) return;
      at = newline + 1;
      const line = this.#line.endsWith("\r") ? this.#line.slice(0, -1) : this.#line;
      this.#line = "";
      this.#endLine(line);
    }
  }

  #endLine(line: string): void {
    if (this.#state === "size") {
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line)?.[1];
      if (size === undefined) throw new Error("the answer has a malformed chunk size");
      this.#left = Number.parseInt(size, 16);
      this.#state = this.#left === 0 ? "trailer" : "data";
    } else if (this.#state === "data-end") {
      if (line !== "") throw new Error("the answer has a chunk longer than its size");
      this.#state = "size";
    } else if (line === "") {
      this.#state = "done";
    } else {
      this.#trailerBytes += line.length;
      if (this.#trailerBytes > maxTrailerBytes)
        throw new Error("the answer's trailers are too long");
    }
  }
}
