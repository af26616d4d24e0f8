import { describe, expect, it } from "vitest";
import {
  AppStoreConnectError,
  errorFromBody,
  parseRateLimit,
  parseRetryAfter,
  redact,
  toAppStoreConnectError,
} from "./index.js";

/**
 * 1 MB of hostile shapes through every public parser. The bound is generous for a loaded
 * machine; the quadratic cases this guards against (`eyJ-` repeated, `<` without `>`) took
 * seconds to minutes at this size.
 */
const boundMs = 2_000;
const size = 1_000_000;
const pieces = [
  "eyJ-",
  "eyJ.",
  "<",
  "-----BEGIN A-----",
  "-----END ",
  "MI",
  "bearer ",
  " ",
  "\\",
  "a-lim",
  "-",
];
const shapes = pieces.map(
  (piece) => [piece, piece.repeat(Math.ceil(size / piece.length))] as const,
);

function timed<T>(run: () => T): T {
  const started = performance.now();
  const result = run();
  expect(performance.now() - started).toBeLessThan(boundMs);
  return result;
}

async function timedAsync<T>(run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  expect(performance.now() - started).toBeLessThan(boundMs);
  return result;
}

describe("every parser and scrubber is linear and capped", () => {
  it.each(shapes)("%j repeated to 1 MB", async (_piece, text) => {
    timed(() => redact(text));
    timed(() => parseRateLimit(text));
    timed(() => parseRetryAfter(text));
    const fromText = timed(() => errorFromBody(text, { status: 500 }));
    expect(fromText.message.length).toBeLessThan(600);
    // What openapi-fetch hands over after parsing a huge body: nothing caps it before us.
    const parsed = {
      errors: Array.from({ length: 1_000 }, () => ({ code: text, detail: text, meta: { text } })),
    };
    const fromParsed = timed(() => errorFromBody(parsed, { status: 500 }));
    expect(fromParsed.errors.length).toBe(100);
    expect(JSON.stringify(fromParsed).length).toBeLessThan(2_000_000);
    const fromResponse = await timedAsync(() =>
      toAppStoreConnectError(new Response(text, { status: 502 })),
    );
    expect(fromResponse).toBeInstanceOf(AppStoreConnectError);
    timed(() => new AppStoreConnectError({ status: 0, detail: text, url: text }));
  });
});
