/**
 * Install verification tokens signed per second with a reused signer (the key imported once)
 * against importing the key for every token, in the same run, as a ratio.
 *
 *   pnpm bench:install-token [--tokens 2000]
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { createInstallTokenSigner, signInstallVerificationToken } from "@asc-kit/install-token";
import { generateKeyPair } from "@asc-kit/pem";

const { values } = parseArgs({
  allowPositionals: true,
  options: { tokens: { type: "string", default: "2000" } },
});
const tokens = Number(values.tokens);
const { privateKeyPem } = await generateKeyPair();
const identity = { privateKey: privateKeyPem, keyId: "bench-key", appleItemId: "6476788026" };
const request = { bundleId: "com.example.app", downloadType: "download" as const };
const signer = createInstallTokenSigner(identity);

async function perSecond(sign: () => Promise<string>): Promise<number> {
  const start = performance.now();
  for (let index = 0; index < tokens; index++) await sign();
  return tokens / ((performance.now() - start) / 1000);
}

await perSecond(() => signer.sign(request));
await perSecond(() => signInstallVerificationToken({ ...identity, ...request }));
const reused = await perSecond(() => signer.sign(request));
const importEach = await perSecond(() => signInstallVerificationToken({ ...identity, ...request }));
console.log(
  `Install tokens on ${os.cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, ${new Date().toISOString()}`,
);
console.log(`reused signer:           ${reused.toFixed(0)} tokens/s`);
console.log(`key imported per token:  ${importEach.toFixed(0)} tokens/s`);
console.log(`ratio reused / per-token import: ${(reused / importEach).toFixed(2)}`);
