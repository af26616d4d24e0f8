import {
  signInstallVerificationToken,
  verifyInstallVerificationToken,
} from "@asc-kit/install-token";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { readText } from "../files.js";

/** `asc-kit install-token …`: install verification tokens, signed and verified locally. */
export function registerInstallToken(program: Command, context: Context): void {
  const { out, colors } = context;
  const installToken = program
    .command("install-token")
    .description(
      "sign and verify install verification tokens with an alternative distribution key",
    );

  installToken
    .command("sign")
    .description("sign a token for one install (prints it: hand it to the installing device)")
    .requiredOption("--key <file>", "the alternative distribution key's private key file")
    // Not --key-id: that global option is the API key's ID, a different key.
    .requiredOption(
      "--distribution-key-id <id>",
      "the alternative distribution key's id in App Store Connect (the token's kid)",
    )
    .requiredOption("--apple-id <id>", "the Apple ID of the distributing app or marketplace")
    .requiredOption("--bundle-id <id>", "the bundle ID of the app being installed")
    .option("--redownload", "a reinstall rather than a first download")
    .option("--install-id <id>", "sent as iid")
    .option("--version-id <id>", "sent as vid")
    .action(
      async (options: {
        key: string;
        distributionKeyId: string;
        appleId: string;
        bundleId: string;
        redownload?: boolean;
        installId?: string;
        versionId?: string;
      }) => {
        const privateKey = await readText(options.key, {
          name: "--key",
          insteadOfKey: "Give the path of the alternative distribution key's private key file.",
        });
        const token = await signInstallVerificationToken({
          privateKey,
          keyId: options.distributionKeyId,
          appleItemId: options.appleId,
          bundleId: options.bundleId,
          downloadType: options.redownload ? "redownload" : "download",
          ...(options.installId ? { installId: options.installId } : {}),
          ...(options.versionId ? { versionId: options.versionId } : {}),
        });
        await out(`${token}\n`, { token });
      },
    );

  installToken
    .command("verify")
    .description("verify a token's signature, header, audience and lifetime against a public key")
    .argument("<token>")
    .requiredOption("--public-key <file>", "the alternative distribution key's public key file")
    .option("--bundle-id <id>", "also require this bundle ID")
    .action(async (token: string, options: { publicKey: string; bundleId?: string }) => {
      const publicKey = await readText(options.publicKey, {
        name: "--public-key",
        insteadOfKey: "Give the path of the public key file.",
      });
      const claims = await verifyInstallVerificationToken(token, publicKey, {
        ...(options.bundleId ? { bundleId: options.bundleId } : {}),
      });
      await out(
        `${colors.green("valid")}: ${Object.entries(claims)
          .map(([name, value]) => `${name}=${String(value)}`)
          .join(" ")}\n`,
        { ok: true, claims },
      );
    });
}
