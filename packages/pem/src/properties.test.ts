import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PemError, inspectKey, normalizePem, toPkcs8Pem, toPublicKeyPem } from "./index.js";

/** Runs per property; `pnpm fuzz` raises it for long runs. */
const numRuns = Number(process.env.ASC_KIT_FUZZ_RUNS ?? 200);
/** Cheap inputs get more runs by default; `pnpm fuzz` sets one count for all. */
const anyInputRuns = process.env.ASC_KIT_FUZZ_RUNS ? numRuns : numRuns * 5;

const keys = Array.from({ length: 6 }, () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return [
    publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    privateKey.export({ type: "sec1", format: "pem" }).toString(),
  ];
}).flat();

const mangling = fc.record({
  wrapWidth: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  oneLine: fc.boolean(),
  lineEnd: fc.constantFrom("\n", "\r\n", "\r", "\\n", "\\r\\n"),
  indent: fc.constantFrom("", "  ", "\t", "        "),
  outerWhitespace: fc.constantFrom("", " ", "\n\n", " \t\n"),
  quote: fc.constantFrom("", '"', "'"),
  finalNewline: fc.boolean(),
  wholeBase64: fc.boolean(),
});

type Mangling = typeof mangling extends fc.Arbitrary<infer T> ? T : never;

function mangle(canonical: string, options: Mangling): string {
  const [begin, ...rest] = canonical.trimEnd().split("\n");
  const end = rest.pop()!;
  const body = rest.join("");
  const bodyLines = options.wrapWidth
    ? body.match(new RegExp(`.{1,${options.wrapWidth}}`, "g"))!
    : [body];
  const lines = [begin!, ...bodyLines, end];
  let text = options.oneLine
    ? lines.join("")
    : lines.map((line) => options.indent + line).join(options.lineEnd);
  if (options.finalNewline) text += options.lineEnd;
  if (options.wholeBase64) text = btoa(text);
  return options.outerWhitespace + options.quote + text + options.quote + options.outerWhitespace;
}

function onlyExpectedErrors(error: unknown): void {
  if (!(error instanceof PemError) && !(error instanceof TypeError)) throw error;
}

describe("properties", () => {
  afterAll(() => {
    console.log(
      `fuzz: normalizePem ${numRuns * 2 + anyInputRuns} inputs, inspectKey ${anyInputRuns}, toPublicKeyPem ${numRuns + anyInputRuns}, toPkcs8Pem ${anyInputRuns}`,
    );
  });

  it("any combination of manglings normalizes back to the canonical PEM", () => {
    fc.assert(
      fc.property(fc.constantFrom(...keys), mangling, (pem, options) => {
        expect(normalizePem(mangle(pem, options))).toBe(pem);
      }),
      { numRuns },
    );
  });

  it("normalizePem is idempotent", () => {
    fc.assert(
      fc.property(fc.constantFrom(...keys), mangling, (pem, options) => {
        const once = normalizePem(mangle(pem, options));
        expect(normalizePem(once)).toBe(once);
      }),
      { numRuns },
    );
  });

  it("damaged DER is never accepted as a key that Web Crypto then refuses as P-256", async () => {
    const ders = keys.map((pem) =>
      Uint8Array.from(atob(pem.split("\n").slice(1, -2).join("")), (c) => c.charCodeAt(0)),
    );
    const damage = fc.oneof(
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({
        kind: fc.constant("drop" as const),
        at: fc.nat(),
        count: fc.integer({ min: 1, max: 8 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ders),
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        async (der, damages) => {
          let bytes = new Uint8Array(der);
          for (const change of damages) {
            const at = change.at % bytes.length;
            if (change.kind === "flip") bytes[at]! ^= 1 << change.bit;
            else
              bytes = Uint8Array.of(...bytes.subarray(0, at), ...bytes.subarray(at + change.count));
            if (bytes.length === 0) return;
          }
          let publicPem: string;
          try {
            publicPem = await toPublicKeyPem(bytes);
          } catch (error) {
            onlyExpectedErrors(error);
            return;
          }
          const spki = Uint8Array.from(atob(publicPem.split("\n").slice(1, -2).join("")), (c) =>
            c.charCodeAt(0),
          );
          await crypto.subtle.importKey(
            "spki",
            spki,
            { name: "ECDSA", namedCurve: "P-256" },
            true,
            ["verify"],
          );
        },
      ),
      { numRuns },
    );
  });

  it("no input makes any function throw anything but PemError or TypeError", async () => {
    const pemLike = fc
      .tuple(
        fc.constantFrom(
          "PUBLIC KEY",
          "PRIVATE KEY",
          "EC PRIVATE KEY",
          "RSA PUBLIC KEY",
          "CERTIFICATE",
          "X",
        ),
        fc.base64String(),
        fc.constantFrom("PUBLIC KEY", "PRIVATE KEY", "EC PRIVATE KEY"),
      )
      .map(([begin, body, end]) => `-----BEGIN ${begin}-----\n${body}\n-----END ${end}-----`);
    const input = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.base64String(),
      pemLike,
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Uint8Array.of(0x30, bytes.length, ...bytes)),
      fc.anything(),
    );
    await fc.assert(
      fc.asyncProperty(input, async (value) => {
        const attempts: Array<() => unknown> = [
          () => normalizePem(value as string),
          () => toPkcs8Pem(value as string),
          () => inspectKey(value as string),
          () => toPublicKeyPem(value as string),
        ];
        for (const attempt of attempts) {
          try {
            await attempt();
          } catch (error) {
            onlyExpectedErrors(error);
          }
        }
      }),
      { numRuns: anyInputRuns },
    );
  });
});
