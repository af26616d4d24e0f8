import { describe, expect, it } from "vitest";
import { ChunkedDecoder } from "./chunked.js";

const encoder = new TextEncoder();

/** Decodes `text` cut into pieces at `cuts`; the data, and whether the body is complete. */
function decode(text: string, cuts: number[] = []) {
  const bytes = encoder.encode(text);
  const decoder = new ChunkedDecoder();
  let data = "";
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut), (piece) => (data += new TextDecoder().decode(piece)));
    from = cut;
  }
  return { data, done: decoder.done };
}

describe("ChunkedDecoder", () => {
  const body = "5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nTrailer: yes\r\n\r\n";

  it("decodes chunks, their extensions and trailers, cut anywhere", () => {
    for (let cut = 0; cut <= body.length; cut++) {
      expect(decode(body, [cut])).toEqual({ data: "hello, world", done: true });
    }
    expect(
      decode(
        body,
        Array.from(body, (_, i) => i),
      ),
    ).toEqual({ data: "hello, world", done: true });
  });

  it("takes bare line feeds and upper-case sizes, and nothing after the last chunk", () => {
    expect(decode("A\nabcdefghij\n0\n\nnot the body's")).toEqual({
      data: "abcdefghij",
      done: true,
    });
  });

  it("is not done before the last chunk and its empty line", () => {
    expect(decode("5\r\nhello\r\n")).toEqual({ data: "hello", done: false });
    expect(decode("5\r\nhello\r\n0\r\n")).toEqual({ data: "hello", done: false });
  });

  it.each([
    ["a size that is not hex", "zz\r\n", /malformed chunk size/],
    ["a size too large to be true", "1000000000000\r\n", /malformed chunk size/],
    ["a negative size", "-5\r\n", /malformed chunk size/],
    ["a chunk longer than its size", "2\r\nabc\r\n", /longer than its size/],
    ["a size line that never ends", "5;" + "x".repeat(5000), /longer than 4 KiB/],
    ["endless trailers", "0\r\n" + "T: x\r\n".repeat(20_000), /trailers are too long/],
  ])("refuses %s", (_name, text, message) => {
    expect(() => decode(text)).toThrow(message);
  });
});
