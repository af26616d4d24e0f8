import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseRateLimit, parseRetryAfter } from "./index.js";

const numRuns = Number(process.env.ASC_KIT_FUZZ_RUNS ?? 1000);

afterAll(() =>
  console.log(`fuzz: parseRateLimit ${numRuns} inputs, parseRetryAfter ${numRuns} inputs`),
);

describe("parseRateLimit", () => {
  it.each([
    ["user-hour-lim:3500;user-hour-rem:500;", { "user-hour": { limit: 3500, remaining: 500 } }],
    ["user-hour-lim:3500;user-hour-rem:500", { "user-hour": { limit: 3500, remaining: 500 } }],
    [
      " user-hour-lim : 3500 ; user-hour-rem: 500 ; ",
      { "user-hour": { limit: 3500, remaining: 500 } },
    ],
    [
      "user-hour-lim:3500;user-hour-rem:500;user-minute-lim:350;user-minute-rem:349;",
      {
        "user-hour": { limit: 3500, remaining: 500 },
        "user-minute": { limit: 350, remaining: 349 },
      },
    ],
    [
      "user-hour-lim:3500;user-hour-rem:500;, user-minute-lim:60;user-minute-rem:1;",
      { "user-hour": { limit: 3500, remaining: 500 }, "user-minute": { limit: 60, remaining: 1 } },
    ],
    ["junk;user-hour-rem:12;=;lim:;x-lim:abc", { "user-hour": { remaining: 12 } }],
    ["__proto__-lim:1", { ["__proto__"]: { limit: 1 } }],
  ])("%j", (header, expected) => {
    const parsed = parseRateLimit(header);
    expect(parsed).toEqual(expected);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it.each([[undefined], [null], [""], ["nothing here"], [";;;"]])(
    "%j gives undefined",
    (header) => {
      expect(parseRateLimit(header)).toBeUndefined();
    },
  );

  it("never throws", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.anything()), (value) => {
        parseRateLimit(value as string);
      }),
      { numRuns },
    );
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2026-10-21T07:27:00Z");
  it.each([
    ["0", 0],
    ["120", 120],
    [" 5 ", 5],
    ["Wed, 21 Oct 2026 07:28:00 GMT", 60],
    ["Wednesday, 21-Oct-26 07:28:30 GMT", 90],
    ["Wed Oct 21 07:27:01 2026", 1],
  ])("%j gives %j", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    [undefined],
    [null],
    [""],
    ["soon"],
    ["-5"],
    ["1.5"],
    ["Wed, 21 Oct 2026 07:26:00 GMT"],
    ["Wed, 21 Oct 2026 07:27:00 GMT"],
    ["99999999999999999999"],
    ["junk 2026"],
  ])("%j gives undefined", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it("never throws", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.anything()),
        fc.date({ noInvalidDate: false }),
        (value, at) => {
          parseRetryAfter(value as string, at);
        },
      ),
      { numRuns },
    );
  });
});
