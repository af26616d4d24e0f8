import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { AppStoreConnectError, toAppStoreConnectError } from "./index.js";

const numRuns = Number(process.env.ASC_KIT_FUZZ_RUNS ?? 300);

describe("toAppStoreConnectError", () => {
  afterAll(() => console.log(`fuzz: toAppStoreConnectError ${numRuns} inputs`));

  it("never throws on any body bytes, status or headers", async () => {
    const errorItem = fc.record(
      {
        code: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        status: fc.string(),
        title: fc.string(),
        detail: fc.oneof(fc.string(), fc.anything()),
        source: fc.oneof(
          fc.record({ pointer: fc.string() }),
          fc.record({ parameter: fc.anything() }),
          fc.anything(),
        ),
        links: fc.anything(),
        meta: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.string().map((text) => new TextEncoder().encode(text)),
      fc.json().map((text) => new TextEncoder().encode(text)),
      fc.array(errorItem).map((errors) => new TextEncoder().encode(JSON.stringify({ errors }))),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.integer({ min: 400, max: 599 }),
        fc.string(),
        fc.string(),
        async (bytes, status, rateLimit, retryAfter) => {
          const headers = new Headers();
          try {
            headers.set("x-rate-limit", rateLimit);
            headers.set("retry-after", retryAfter);
          } catch {
            // Headers refuses some strings; a server could not have sent those.
          }
          const error = await toAppStoreConnectError(new Response(bytes, { status, headers }));
          expect(error).toBeInstanceOf(AppStoreConnectError);
          expect(error.status).toBe(status);
          expect(error.message).not.toMatch(/\n/);
          expect(JSON.parse(JSON.stringify(error))).toMatchObject({ status, code: error.code });
        },
      ),
      { numRuns },
    );
  });
});
