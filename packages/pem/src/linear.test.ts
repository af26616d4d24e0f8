import { describe, expect, it } from "vitest";
import {
  MAX_PEM_INPUT_LENGTH,
  PemError,
  fingerprint,
  inspectKey,
  normalizePem,
  toPkcs8Pem,
  toPublicKeyPem,
} from "./index.js";

/**
 * Hostile shapes, each at the size cap (the most work a parser will accept) and at 1 MB. The
 * bound is generous for a loaded machine; the quadratic cases this guards against took seconds
 * to minutes at these sizes.
 */
const boundMs = 1_000;
const unit = [
  "\\",
  "\\\\\\\\x",
  " \n",
  "\n\n \t\n",
  "eyJ",
  "QUFB",
  "-----BEGIN A-----",
  "-----BEGIN PUBLIC KEY-----\n",
  "-----END ",
  "A:\n",
  "-",
];
const shapes: Array<readonly [string, string]> = unit.flatMap((piece) =>
  [MAX_PEM_INPUT_LENGTH, 1_000_000].map((size) => {
    const text = piece.repeat(Math.floor(size / piece.length));
    return [`${JSON.stringify(piece)} × ${text.length}`, text] as const;
  }),
);
shapes.push([
  "one block whose body is whitespace lines",
  `-----BEGIN PUBLIC KEY-----\n${" \n".repeat(8_000)}-----END PUBLIC KEY-----`,
]);

describe("every parser is linear and capped", () => {
  it.each(shapes)("%s", async (_name, text) => {
    const parsers: Array<(input: string) => unknown> = [
      normalizePem,
      (input) => normalizePem(input, { label: "PUBLIC KEY" }),
      toPkcs8Pem,
      inspectKey,
      toPublicKeyPem,
      fingerprint,
    ];
    for (const parse of parsers) {
      const started = performance.now();
      const error = await Promise.resolve()
        .then(() => parse(text))
        .then(
          () => undefined,
          (reason: unknown) => reason,
        );
      expect(performance.now() - started).toBeLessThan(boundMs);
      expect(error).toBeInstanceOf(PemError);
      expect((error as PemError).message.length).toBeLessThan(400);
    }
  });
});
