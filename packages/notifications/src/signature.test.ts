import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NotificationError, signNotification, verifySignature } from "./index.js";

/** Apple's published test vector for the signature. */
const appleSecret = "This is my secret";
const appleBody = "Hello, World!";
const appleHeader = "hmacsha256=7f062172b01cb00b53ca068614674a3d982a34062a0f5d37687d5e3377e54657";

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => "verified",
    (error: unknown) => (error instanceof NotificationError ? error.code : String(error)),
  );

describe("verifySignature", () => {
  it("passes Apple's test vector, as text and as bytes, and signs it the same", async () => {
    await expect(verifySignature(appleBody, appleHeader, appleSecret)).resolves.toBeUndefined();
    await expect(
      verifySignature(new TextEncoder().encode(appleBody), appleHeader, appleSecret),
    ).resolves.toBeUndefined();
    expect(await signNotification(appleBody, appleSecret)).toBe(appleHeader);
  });

  it.each([
    ["a changed body", "Hello, World?", appleHeader, appleSecret, "ERR_SIGNATURE_MISMATCH"],
    ["a trailing newline", `${appleBody}\n`, appleHeader, appleSecret, "ERR_SIGNATURE_MISMATCH"],
    ["another secret", appleBody, appleHeader, "This is my secret!", "ERR_SIGNATURE_MISMATCH"],
    [
      "a changed digit",
      appleBody,
      appleHeader.replace(/7$/, "8"),
      appleSecret,
      "ERR_SIGNATURE_MISMATCH",
    ],
    ["no header", appleBody, null, appleSecret, "ERR_SIGNATURE_MISSING"],
    ["an empty header", appleBody, "", appleSecret, "ERR_SIGNATURE_MISSING"],
    [
      "another scheme",
      appleBody,
      appleHeader.replace("hmacsha256", "sha256"),
      appleSecret,
      "ERR_SIGNATURE_MALFORMED",
    ],
    ["a short digest", appleBody, appleHeader.slice(0, -2), appleSecret, "ERR_SIGNATURE_MALFORMED"],
    [
      "base64 instead of hex",
      appleBody,
      "hmacsha256=fwYhcrAcsAtTygaGFGdKPZgqNAYqD103aH1eM3flRlc=",
      appleSecret,
      "ERR_SIGNATURE_MALFORMED",
    ],
    [
      "a space inside",
      appleBody,
      appleHeader.replace("=", "= "),
      appleSecret,
      "ERR_SIGNATURE_MALFORMED",
    ],
  ])("refuses %s", async (_name, body, header, secret, expected) => {
    expect(await code(verifySignature(body, header, secret))).toBe(expected);
  });

  it("never puts the secret or the signature in a message", async () => {
    const error = await verifySignature("x", appleHeader, appleSecret).catch(
      (failure: Error) => failure,
    );
    expect(String(error)).not.toContain(appleSecret);
    expect(String(error)).not.toContain(appleHeader.slice(11));
  });

  it("accepts exactly the body it signed, for any body and secret", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 512 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        async (body, secret, position) => {
          const header = await signNotification(body, secret);
          await verifySignature(body, header, secret);
          if (body.length === 0) return;
          const tampered = body.slice();
          tampered[position % body.length] = tampered[position % body.length]! ^ 1;
          expect(await code(verifySignature(tampered, header, secret))).toBe(
            "ERR_SIGNATURE_MISMATCH",
          );
        },
      ),
      { numRuns: Number(process.env.ASC_KIT_FUZZ_RUNS ?? 200) },
    );
  });
});
