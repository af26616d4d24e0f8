import { describe, expect, it } from "vitest";
import { MAX_PEM_INPUT_LENGTH, PemError, normalizePem } from "./index.js";
import {
  appleCanonical,
  appleCorruptSingleLine,
  appleWrapped,
} from "./test-support/apple-samples.js";

const ecParameters =
  "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
const body = appleCanonical.split("\n").slice(1, 3).join("");
const base64 = (text: string) => btoa(text);

function pemError(run: () => unknown): PemError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PemError);
    return error as PemError;
  }
  throw new Error("expected a PemError");
}

describe("normalizePem accepts", () => {
  const shapes: Array<[string, string | Uint8Array]> = [
    ["the canonical form", appleCanonical],
    ["no final newline", appleWrapped],
    ["CRLF line ends", appleWrapped.replace(/\n/g, "\r\n")],
    ["CR line ends", appleWrapped.replace(/\n/g, "\r")],
    ["indentation on every line (YAML block)", appleWrapped.replace(/^/gm, "    ")],
    ["surrounding whitespace", `\n\n  ${appleWrapped}  \n\n`],
    ["surrounding double quotes", `"${appleWrapped}"`],
    ["surrounding single quotes", `'${appleWrapped}'`],
    ["literal \\n escapes (CI secrets)", appleWrapped.replace(/\n/g, "\\n")],
    ["literal \\r\\n escapes", appleWrapped.replace(/\n/g, "\\r\\n")],
    ["double-escaped \\\\n (JSON in JSON)", appleWrapped.replace(/\n/g, "\\\\n")],
    ["quoted, escaped JSON value", JSON.stringify(appleWrapped)],
    ["header, body and footer on one line", appleWrapped.replace(/\n/g, "")],
    ["body not wrapped", `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`],
    [
      "body wrapped at 76",
      `-----BEGIN PUBLIC KEY-----\n${body.replace(/.{76}/g, "$&\n")}\n-----END PUBLIC KEY-----`,
    ],
    [
      "body wrapped at 10, spaces between",
      `-----BEGIN PUBLIC KEY-----\n${body.replace(/.{10}/g, "$& \n ")}\n-----END PUBLIC KEY-----`,
    ],
    ["a byte order mark", `\uFEFF${appleWrapped}`],
    ["the whole PEM as base64", base64(appleCanonical)],
    ["the whole PEM as base64, wrapped", base64(appleCanonical).replace(/.{60}/g, "$&\n")],
    ["UTF-8 bytes of the PEM", new TextEncoder().encode(appleWrapped)],
    ["missing base64 padding", appleWrapped.replace("fhw==", "fhw")],
    // RFC 7468 section 2: parsers must ignore text outside the encapsulation boundaries.
    ["explanatory text before and after", `Public key of the build host:\n${appleWrapped}\n(end)`],
    ["text before BEGIN on the same line", `key: ${appleWrapped}`],
    [
      "openssl pkcs12 -nodes Bag Attributes",
      `Bag Attributes\n    localKeyID: 01 00 00 00\n    friendlyName: build\nKey Attributes: <No Attributes>\n${appleWrapped}`,
    ],
    ["an EC PARAMETERS block first (openssl ecparam -genkey)", `${ecParameters}${appleWrapped}`],
    ["an EC PARAMETERS block after the key", `${appleWrapped}\n${ecParameters}`],
    [
      "an RFC 1421 header that is not encryption",
      appleWrapped.replace("MFkw", "Comment: NOT ENCRYPTED, a build key\n\nMFkw"),
    ],
    [
      "escapes mixed with real line ends",
      appleWrapped.replace(/\n/g, (_, at: number) => (at % 2 ? "\n" : "\\n")),
    ],
    ["\\r\\n escaped twice", appleWrapped.replace(/\n/g, "\\\\r\\\\n")],
  ];
  it.each(shapes)("%s", (_name, input) => {
    expect(normalizePem(input)).toBe(appleCanonical);
  });

  it("a bare base64 body when options.label says what it is", () => {
    expect(normalizePem(body, { label: "PUBLIC KEY" })).toBe(appleCanonical);
  });

  it("binary DER when options.label says what it is", () => {
    const der = Uint8Array.from(atob(body), (character) => character.charCodeAt(0));
    expect(normalizePem(der, { label: "PUBLIC KEY" })).toBe(appleCanonical);
  });

  it("the wrapped sample collapsed onto one line gives the same canonical PEM", () => {
    expect(normalizePem(appleWrapped.replace(/\n/g, ""))).toBe(normalizePem(appleWrapped));
  });

  it("the corrupt sample as far as PEM goes: its DER is checked by the key functions", () => {
    expect(normalizePem(appleCorruptSingleLine)).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it("is idempotent", () => {
    const once = normalizePem(appleWrapped.replace(/\n/g, "\\n"));
    expect(normalizePem(once)).toBe(once);
  });
});

describe("normalizePem rejects", () => {
  const rejections: Array<[string, string | Uint8Array, PemError["code"], RegExp]> = [
    [
      "a non-base64 character in the body",
      appleWrapped.replace("MFkw", "MF*w"),
      "ERR_PEM_MALFORMED",
      /character that is not base64 \("\*", U\+002A at position 3 of 124\)/,
    ],
    [
      "an empty body",
      "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----",
      "ERR_PEM_MALFORMED",
      /PUBLIC KEY block has an empty body/,
    ],
    [
      "labels that differ",
      appleWrapped.replace("END PUBLIC KEY", "END PRIVATE KEY"),
      "ERR_PEM_LABEL",
      /begins with "PUBLIC KEY" but ends with "PRIVATE KEY"/,
    ],
    [
      "two PEM blocks",
      `${appleWrapped}\n${appleWrapped}`,
      "ERR_PEM_MULTIPLE",
      /Found 2 PEM blocks where one was expected \(labels: PUBLIC KEY, PUBLIC KEY\)/,
    ],
    [
      "three PEM blocks",
      [appleWrapped, appleWrapped, appleWrapped].join("\n"),
      "ERR_PEM_MULTIPLE",
      /Found 3 PEM blocks/,
    ],
    [
      "a BEGIN without END",
      appleWrapped.split("\n-----END")[0]!,
      "ERR_PEM_MALFORMED",
      /no END line/,
    ],
    [
      "an END without BEGIN",
      appleWrapped.split("-----BEGIN PUBLIC KEY-----")[1]!,
      "ERR_PEM_MALFORMED",
      /no BEGIN line/,
    ],
    [
      "two key blocks among explanatory text and parameters",
      `Bag Attributes\n${ecParameters}${appleWrapped}\nnote\n${appleWrapped}`,
      "ERR_PEM_MULTIPLE",
      /Found 2 PEM blocks where one was expected \(labels: PUBLIC KEY, PUBLIC KEY\)/,
    ],
    [
      "parameters alone",
      ecParameters,
      "ERR_PEM_MALFORMED",
      /Found only labels: EC PARAMETERS and no key block/,
    ],
    [
      "a BEGIN followed by another BEGIN",
      `-----BEGIN PUBLIC KEY-----\n${appleWrapped}`,
      "ERR_PEM_MALFORMED",
      /no END line before the next BEGIN/,
    ],
    [
      "input longer than any key",
      `${appleWrapped}\n${"x".repeat(MAX_PEM_INPUT_LENGTH)}`,
      "ERR_PEM_TOO_LARGE",
      /is 16562 characters long; a key is at most 16384/,
    ],
    [
      "bytes longer than any key",
      new Uint8Array(MAX_PEM_INPUT_LENGTH + 1).fill(0x30),
      "ERR_PEM_TOO_LARGE",
      /is 16385 bytes long/,
    ],
    ["an empty string", "   ", "ERR_PEM_MALFORMED", /input is empty/],
    ["prose", "hello, world", "ERR_PEM_MALFORMED", /No PEM found/],
    ["a file path", "./AuthKey_ABC123.p8", "ERR_PEM_MALFORMED", /looks like a file path/],
    ["a bare body with no label", body, "ERR_PEM_MALFORMED", /pass options\.label/],
    [
      "a truncated body",
      appleWrapped.replace("fhw==", "fh"),
      "ERR_PEM_MALFORMED",
      /not valid base64 .* cut short/,
    ],
    [
      "legacy encrypted PEM",
      "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----",
      "ERR_KEY_ENCRYPTED",
      /encrypted with a password/,
    ],
  ];
  it.each(rejections)("%s", (_name, input, code, message) => {
    const error = pemError(() => normalizePem(input));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("MFkwEwYHKoZIzj0CAQYIKoZIzj0D");
  });

  it("many blocks with a short message", () => {
    const error = pemError(() => normalizePem(appleWrapped.repeat(30)));
    expect(error.code).toBe("ERR_PEM_MULTIPLE");
    expect(error.message).toBe(
      "Found 30 PEM blocks where one was expected (labels: PUBLIC KEY, PUBLIC KEY, PUBLIC KEY and 27 more). Pass one key at a time.",
    );
  });

  it("a legacy encrypted header in any case, but no other header", () => {
    const encrypted = appleWrapped.replace("MFkw", "proc-type: 4, encrypted\n\nMFkw");
    expect(pemError(() => normalizePem(encrypted)).code).toBe("ERR_KEY_ENCRYPTED");
  });

  it("wrong argument types with a TypeError", () => {
    expect(() => normalizePem(42 as unknown as string)).toThrow(TypeError);
    expect(() => normalizePem(null as unknown as string)).toThrow(/got null/);
    expect(() => normalizePem(appleWrapped, { label: "public key" })).toThrow(TypeError);
  });
});
