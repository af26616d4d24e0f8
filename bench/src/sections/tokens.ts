import { createInstallTokenSigner, signInstallVerificationToken } from "@asc-kit/install-token";
import type { Section } from "../context.ts";

interface TokenRates {
  reusedSignerPerSecond: number;
  importPerTokenPerSecond: number;
  ratio: number;
}

async function tokensPerSecond(sign: () => Promise<string>): Promise<number> {
  const start = performance.now();
  for (let index = 0; index < 1000; index++) await sign();
  return 1000 / ((performance.now() - start) / 1000);
}

/** Install verification tokens: a reused signer against a key import per token. */
export const tokens: Section<TokenRates> = {
  name: "tokens",
  async measure({ privateKeyPem }) {
    const signer = createInstallTokenSigner({
      privateKey: privateKeyPem,
      keyId: "k",
      appleItemId: "6476788026",
    });
    const request = { bundleId: "com.example.app", downloadType: "download" as const };
    await tokensPerSecond(() => signer.sign(request));
    const reused = await tokensPerSecond(() => signer.sign(request));
    const importEach = await tokensPerSecond(() =>
      signInstallVerificationToken({
        privateKey: privateKeyPem,
        keyId: "k",
        appleItemId: "6476788026",
        ...request,
      }),
    );
    return {
      reusedSignerPerSecond: Math.round(reused),
      importPerTokenPerSecond: Math.round(importEach),
      ratio: reused / importEach,
    };
  },
  render(rates) {
    return [
      "## Install verification tokens (1,000 tokens, one after another)",
      "",
      `- Reused signer (key imported once): ${rates.reusedSignerPerSecond} tokens/s; key imported for each token: ${rates.importPerTokenPerSecond} tokens/s; ratio ${rates.ratio.toFixed(2)}.`,
      "",
    ];
  },
};
