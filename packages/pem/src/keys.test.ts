import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { SignJWT, importPKCS8, importSPKI, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  PemError,
  fingerprint,
  generateKeyPair,
  inspectKey,
  toPkcs8Der,
  toPkcs8Pem,
  toPublicKeyPem,
} from "./index.js";
import {
  appleCanonical,
  appleCorruptSingleLine,
  appleWrapped,
} from "./test-support/apple-samples.js";

async function rejection(promise: Promise<unknown>): Promise<PemError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PemError);
  return error as PemError;
}

const ec256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ec384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const ec521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ed25519 = generateKeyPairSync("ed25519");
const sec1Pem = ec256.privateKey.export({ type: "sec1", format: "pem" }).toString();
const pkcs8Pem = ec256.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const spkiPem = ec256.publicKey.export({ type: "spki", format: "pem" }).toString();
const spkiDer = new Uint8Array(ec256.publicKey.export({ type: "spki", format: "der" }));

describe("Apple's samples", () => {
  it("rejects the single-line sample as damaged, not as a wrong curve or label", async () => {
    for (const run of [inspectKey, toPublicKeyPem, fingerprint]) {
      const error = await rejection(run(appleCorruptSingleLine));
      expect(error.code).toBe("ERR_KEY_CORRUPT");
      expect(error.message).toMatch(/PUBLIC KEY block is damaged: its DER does not parse/);
    }
  });

  it("accepts the wrapped sample and its single-line form alike", async () => {
    expect(await toPublicKeyPem(appleWrapped)).toBe(appleCanonical);
    expect(await toPublicKeyPem(appleWrapped.replace(/\n/g, ""))).toBe(appleCanonical);
    expect(await inspectKey(appleWrapped)).toEqual({
      kind: "public",
      format: "spki",
      type: "EC",
      curve: "P-256",
      fingerprint: "6ac9e0338f5eca8704b7240500b611ae82810bb70a503449d915d13e06ac3172",
    });
  });
});

describe("inspectKey", () => {
  const cases: Array<
    [string, string | Uint8Array, Omit<Awaited<ReturnType<typeof inspectKey>>, "fingerprint">]
  > = [
    ["SPKI P-256", spkiPem, { kind: "public", format: "spki", type: "EC", curve: "P-256" }],
    ["SPKI as binary DER", spkiDer, { kind: "public", format: "spki", type: "EC", curve: "P-256" }],
    ["PKCS#8 P-256", pkcs8Pem, { kind: "private", format: "pkcs8", type: "EC", curve: "P-256" }],
    ["SEC1 P-256", sec1Pem, { kind: "private", format: "sec1", type: "EC", curve: "P-256" }],
    [
      "SPKI P-384",
      ec384.publicKey.export({ type: "spki", format: "pem" }).toString(),
      { kind: "public", format: "spki", type: "EC", curve: "P-384" },
    ],
    [
      "SEC1 P-521",
      ec521.privateKey.export({ type: "sec1", format: "pem" }).toString(),
      { kind: "private", format: "sec1", type: "EC", curve: "P-521" },
    ],
    [
      "RSA SPKI",
      rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
      { kind: "public", format: "spki", type: "RSA" },
    ],
    [
      "RSA PKCS#1 private",
      rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      { kind: "private", format: "pkcs1", type: "RSA" },
    ],
    [
      "RSA PKCS#1 public",
      rsa.publicKey.export({ type: "pkcs1", format: "pem" }).toString(),
      { kind: "public", format: "pkcs1", type: "RSA" },
    ],
    [
      "Ed25519 PKCS#8",
      ed25519.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      { kind: "private", format: "pkcs8", type: "Ed25519" },
    ],
  ];
  it.each(cases)("%s", async (_name, input, expected) => {
    const info = await inspectKey(input);
    expect(info).toEqual({ ...expected, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("gives a private key and its public key the same fingerprint", async () => {
    const expected = await fingerprint(spkiPem);
    expect(await fingerprint(pkcs8Pem)).toBe(expected);
    expect(await fingerprint(sec1Pem)).toBe(expected);
    const rsaPublic = await fingerprint(
      rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
    );
    expect(
      await fingerprint(rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString()),
    ).toBe(rsaPublic);
  });

  it("fingerprints SHA-256 over the SPKI DER, as openssl does", async () => {
    const { createHash } = await import("node:crypto");
    expect(await fingerprint(spkiPem)).toBe(createHash("sha256").update(spkiDer).digest("hex"));
  });

  it("names a label that does not match the content", async () => {
    const mislabelled = pkcs8Pem.replace(/PRIVATE KEY/g, "PUBLIC KEY");
    const error = await rejection(inspectKey(mislabelled));
    expect(error.code).toBe("ERR_PEM_LABEL");
    expect(error.message).toBe(
      'The PEM is labelled "PUBLIC KEY" but holds a PKCS#8 private key (EC P-256), which is labelled "PRIVATE KEY".',
    );
  });

  it("refuses certificates and encrypted keys with what to do instead", async () => {
    const certificate = `-----BEGIN CERTIFICATE-----\n${spkiPem.split("\n").slice(1, -2).join("\n")}\n-----END CERTIFICATE-----`;
    const certificateError = await rejection(inspectKey(certificate));
    expect(certificateError.code).toBe("ERR_KEY_UNSUPPORTED");
    expect(certificateError.message).toMatch(/certificate, not a key.*openssl x509/);
    const encrypted = ec256.privateKey
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" })
      .toString();
    const encryptedError = await rejection(inspectKey(encrypted));
    expect(encryptedError.code).toBe("ERR_KEY_ENCRYPTED");
  });

  it("reads what openssl writes around a key: EC PARAMETERS, Bag Attributes", async () => {
    const ecparam = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1Pem}`;
    expect(await toPublicKeyPem(ecparam)).toBe(spkiPem);
    expect(toPkcs8Pem(ecparam)).toBe(pkcs8Pem);
    const pkcs12 = `Bag Attributes\n    localKeyID: 01 00 00 00\nKey Attributes: <No Attributes>\n${pkcs8Pem}`;
    expect(await fingerprint(pkcs12)).toBe(await fingerprint(spkiPem));
  });

  it("refuses DER lengths that are not in their shortest form", async () => {
    // 30 59 ... written as 30 82 00 59 ...: the same value, not DER.
    const longForm = new Uint8Array(spkiDer.length + 2);
    longForm.set([0x30, 0x82, 0x00, spkiDer[1]!]);
    longForm.set(spkiDer.subarray(2), 4);
    const error = await rejection(inspectKey(longForm));
    expect(error.code).toBe("ERR_KEY_CORRUPT");
    expect(error.message).toMatch(/not in its shortest form/);
  });

  it("reports well-formed DER that Web Crypto refuses as corrupt", async () => {
    const der = new Uint8Array(spkiDer);
    der[der.length - 1]! ^= 0x01; // the point is no longer on the curve
    const error = await rejection(inspectKey(der));
    expect(error.code).toBe("ERR_KEY_CORRUPT");
    expect(error.message).toMatch(
      /^Found an SPKI public key \(EC P-256\) that is well-formed DER but not a valid key \(Web Crypto refused it\)/,
    );
  });
});

describe("toPublicKeyPem", () => {
  it("derives the public key from PKCS#8 and SEC1 private keys", async () => {
    expect(await toPublicKeyPem(pkcs8Pem)).toBe(spkiPem);
    expect(await toPublicKeyPem(sec1Pem)).toBe(spkiPem);
    expect(await toPublicKeyPem(sec1Pem.replace(/\n/g, "\\n"))).toBe(spkiPem);
  });

  const refused: Array<[string, string, RegExp]> = [
    [
      "RSA",
      rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
      /Found an RSA key \(public\); an alternative distribution key must be an EC key on P-256/,
    ],
    [
      "Ed25519",
      ed25519.publicKey.export({ type: "spki", format: "pem" }).toString(),
      /Found an Ed25519 key \(public\)/,
    ],
    [
      "P-384",
      ec384.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      /Found an EC key on P-384 \(private\)/,
    ],
    [
      "P-521",
      ec521.publicKey.export({ type: "spki", format: "pem" }).toString(),
      /Found an EC key on P-521 \(public\)/,
    ],
  ];
  it.each(refused)(
    "refuses %s, saying what was found and what is needed",
    async (_name, input, message) => {
      const error = await rejection(toPublicKeyPem(input));
      expect(error.code).toBe("ERR_KEY_UNSUPPORTED");
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/prime256v1/);
    },
  );
});

describe("toPkcs8Pem", () => {
  it("converts SEC1 to the PKCS#8 that Node's crypto writes, as PEM and as DER", () => {
    expect(toPkcs8Pem(sec1Pem)).toBe(pkcs8Pem);
    expect(Buffer.from(toPkcs8Der(sec1Pem))).toEqual(
      ec256.privateKey.export({ type: "pkcs8", format: "der" }),
    );
    expect(toPkcs8Pem(pkcs8Pem.replace(/\n/g, ""))).toBe(pkcs8Pem);
  });

  it("refuses public keys and other curves", () => {
    expect(() => toPkcs8Pem(spkiPem)).toThrow(/Found a public key where a private key is needed/);
    expect(() => toPkcs8Pem(spkiPem)).toThrow(/`private-key\.pem` from `asc-kit keys generate`/);
    expect(() =>
      toPkcs8Pem(ec384.privateKey.export({ type: "sec1", format: "pem" }).toString()),
    ).toThrow(/P-384/);
  });

  it("lets a SEC1 key from Node sign a JWT with jose that verifies with the derived public key", async () => {
    const signingKey = await importPKCS8(toPkcs8Pem(sec1Pem), "ES256");
    const token = await new SignJWT({ sub: "test" })
      .setProtectedHeader({ alg: "ES256" })
      .sign(signingKey);
    const verifyingKey = await importSPKI(await toPublicKeyPem(sec1Pem), "ES256");
    const { payload } = await jwtVerify(token, verifyingKey);
    expect(payload.sub).toBe("test");
  });
});

describe("generateKeyPair", () => {
  it("makes a P-256 pair that jose and Node's crypto import and that signs", async () => {
    const { privateKeyPem, publicKeyPem } = await generateKeyPair();
    await importPKCS8(privateKeyPem, "ES256");
    await importSPKI(publicKeyPem, "ES256");
    const privateKey = createPrivateKey(privateKeyPem);
    const publicKey = createPublicKey(publicKeyPem);
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const { sign } = await import("node:crypto");
    const signature = sign("sha256", Buffer.from("data"), privateKey);
    expect(verify("sha256", Buffer.from("data"), publicKey, signature)).toBe(true);
    expect(await inspectKey(privateKeyPem)).toMatchObject({
      kind: "private",
      format: "pkcs8",
      curve: "P-256",
    });
    expect(await fingerprint(privateKeyPem)).toBe(await fingerprint(publicKeyPem));
  });

  it("makes a new pair each time", async () => {
    const [first, second] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    expect(first.privateKeyPem).not.toBe(second.privateKeyPem);
  });
});

describe("secrets", () => {
  it("never puts key material in a message", async () => {
    const body = pkcs8Pem.split("\n")[1]!;
    const damaged = pkcs8Pem.replace(body, body.slice(0, 20) + "!" + body.slice(21));
    const errors = await Promise.all(
      [
        damaged,
        pkcs8Pem.replace(/PRIVATE KEY/g, "PUBLIC KEY"),
        ec384.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      ].map((input) => rejection(toPublicKeyPem(input))),
    );
    for (const error of errors) {
      expect(error.message).not.toContain(body.slice(0, 16));
      expect(error.message).not.toMatch(/[A-Za-z0-9+/]{24}/);
    }
  });
});
