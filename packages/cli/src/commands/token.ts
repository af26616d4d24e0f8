import { createTokenProvider } from "@asc-kit/core";
import type { Command } from "commander";
import type { Context } from "../context.js";

/** `asc-kit token`: a token for curl. */
export function registerToken(program: Command, context: Context): void {
  program
    .command("token")
    .description(
      "print a token for use with curl (it is a secret: it grants API access for up to 20 minutes)",
    )
    .option("--scope <scope...>", 'restrict the token, e.g. "GET /v1/alternativeDistributionKeys"')
    .action(async (options: { scope?: string[] }) => {
      const { keyId, issuerId, privateKey } = await context.credentials();
      const token = await createTokenProvider({
        keyId,
        privateKey,
        ...(issuerId ? { issuerId } : {}),
        ...(options.scope ? { scope: options.scope } : {}),
      }).getToken();
      await context.out(`${token}\n`, { token });
    });
}
