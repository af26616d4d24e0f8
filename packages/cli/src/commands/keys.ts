import { join } from "node:path";
import {
  addAlternativeDistributionKey,
  getAlternativeDistributionKey,
  getAppAlternativeDistributionKey,
  listAlternativeDistributionKeys,
  removeAlternativeDistributionKey,
} from "@asc-kit/core";
import type { AlternativeDistributionKey } from "@asc-kit/core";
import { PemError, fingerprint, generateKeyPair, inspectKey, toPublicKeyPem } from "@asc-kit/pem";
import { Option } from "commander";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { exists, makeFolder, readKeyInput, writeNewFile } from "../files.js";
import type { FileRole } from "../files.js";
import { json, table } from "../output.js";
import { Exit, localError, shown } from "../report.js";
import { confirm, unwrap } from "./shared.js";

const keyFileRole: FileRole = {
  name: "The <file> argument",
  insteadOfKey: "Give the key's file name, or - and the key on standard input.",
};

/** Whether a key is the account-wide key or an app's (and, where known, which app's). */
type Scope = { scope: "account" } | { scope: "app"; appId?: string };

/** A key as `--json` prints it: the resource, its fingerprint and, where known, its scope. */
type KeyOutput = AlternativeDistributionKey & {
  fingerprint: string | null;
  scope?: Scope["scope"];
  appId?: string;
};

const accountScope: Scope = { scope: "account" };
const appScope = (appId?: string): Scope => (appId ? { scope: "app", appId } : { scope: "app" });

/** `asc-kit keys …`: alternative distribution keys. */
export function registerKeys(program: Command, context: Context): void {
  const { io, out, colors } = context;
  const keys = program.command("keys").description("manage alternative distribution keys");

  keys
    .command("generate")
    .description(
      "make a new P-256 key pair: private-key.pem (PKCS#8, mode 0600) and public-key.pem",
    )
    .option("--out <dir>", "folder to write to", ".")
    .action(async (options: { out: string }) => {
      const privatePath = join(options.out, "private-key.pem");
      const publicPath = join(options.out, "public-key.pem");
      for (const path of [privatePath, publicPath]) {
        if (await exists(path))
          throw localError(
            `${shown(path)} exists already; refusing to overwrite it. Choose another --out folder.`,
            "EEXIST",
          );
      }
      const pair = await generateKeyPair();
      await makeFolder(options.out);
      await writeNewFile(privatePath, pair.privateKeyPem, 0o600);
      await writeNewFile(publicPath, pair.publicKeyPem);
      const print = await fingerprint(pair.publicKeyPem);
      await out(
        `Wrote ${privatePath} (keep it secret) and ${publicPath} (upload it with: asc-kit keys add ${publicPath}).\nFingerprint: ${print}\n`,
        { privateKeyPath: privatePath, publicKeyPath: publicPath, fingerprint: print },
      );
    });

  keys
    .command("add")
    .description("upload a public key (a private key is reduced to its public key first)")
    .argument("<file>", "key file, or - for standard input")
    .option("--app <appId>", "make it the key of this app instead of the account-wide key")
    .option("--yes", "upload even the API key's own public key (refused otherwise)")
    .action(async (file: string, options: { app?: string; yes?: boolean }) => {
      const publicKey = await readKeyInput(file, io, keyFileRole);
      await refuseApiKey(context, publicKey, options.yes);
      const created = unwrap(
        await addAlternativeDistributionKey(await context.client(), {
          publicKey,
          ...(options.app ? { appId: options.app } : {}),
        }),
      );
      await out(
        `Added key ${created.data.id}${options.app ? ` for app ${options.app}` : " for the account"}.\n`,
        await withFingerprint(created.data, options.app ? appScope(options.app) : accountScope),
      );
    });

  keys
    .command("list")
    .description("list keys with their scope (account-wide or an app's) and fingerprint")
    .addOption(new Option("--account", "only the account-wide key").conflicts("app"))
    .option("--app <appId>", "only this app's key")
    .action(async (options: { account?: boolean; app?: string }) => {
      const api = await context.client();
      let list: KeyOutput[];
      if (options.app) {
        const found = await getAppAlternativeDistributionKey(api, options.app);
        // A list filtered to an app without a key is a list of nothing (`keys app` is the 404).
        if (found.error?.status === 404) list = [];
        else list = [await withFingerprint(unwrap(found).data, appScope(options.app))];
      } else {
        const all = unwrap(
          await listAlternativeDistributionKeys(api, {
            app: options.account ? "without" : "any",
          }),
        );
        // Apple's key resource does not name its app: the account-wide ones are those without.
        const accountWide = options.account
          ? all
          : unwrap(await listAlternativeDistributionKeys(api, { app: "without" }));
        const accountIds = new Set(accountWide.map((key) => key.id));
        list = await Promise.all(
          all.map((key) =>
            withFingerprint(key, accountIds.has(key.id) ? accountScope : appScope()),
          ),
        );
      }
      const rows = list.map((key) => [
        key.id,
        scopeText(key),
        (key.fingerprint ?? "unreadable").slice(0, 16),
      ]);
      await out(
        list.length === 0 ? "No keys.\n" : table(["ID", "SCOPE", "FINGERPRINT"], rows),
        list,
      );
    });

  keys
    .command("get")
    .description("show one key")
    .argument("<id>")
    .action(async (id: string) => {
      const key = unwrap(await getAlternativeDistributionKey(await context.client(), id)).data;
      const shownKey = await withFingerprint(key);
      await out(describeKey(shownKey), shownKey);
    });

  keys
    .command("app")
    .description("show the key of one app")
    .argument("<appId>")
    .action(async (appId: string) => {
      const key = unwrap(await getAppAlternativeDistributionKey(await context.client(), appId));
      const shownKey = await withFingerprint(key.data, appScope(appId));
      await out(describeKey(shownKey), shownKey);
    });

  keys
    .command("remove")
    .description("remove a key")
    .argument("<id>")
    .option("--yes", "do not ask for confirmation")
    .action(async (id: string, options: { yes?: boolean }) => {
      await confirm(io, options.yes, `Remove alternative distribution key ${id}? [y/N] `);
      unwrap(await removeAlternativeDistributionKey(await context.client(), id));
      await out(`Removed key ${id}.\n`, { removed: id });
    });

  keys
    .command("check")
    .description("check a key offline: normalize, inspect, fingerprint")
    .argument("<file>", "key file, or - for standard input")
    .action(async (file: string) => {
      const input = await readKeyInput(file, io, keyFileRole);
      const asJson = context.globals().json ?? false;
      let info: Awaited<ReturnType<typeof inspectKey>>;
      try {
        info = await inspectKey(input);
      } catch (error) {
        if (!(error instanceof PemError) || !asJson) throw error;
        io.stdout(json({ ok: false, code: error.code, message: error.message }));
        throw new Exit(ExitCode.localValidation);
      }
      // Readable but perhaps not usable (RSA, P-384, …): the reason is part of the verdict.
      let publicKeyPem: string | undefined;
      let refusal: PemError | undefined;
      try {
        publicKeyPem = await toPublicKeyPem(input);
      } catch (error) {
        if (!(error instanceof PemError)) throw error;
        refusal = error;
      }
      const description = `${info.kind} key, ${info.format}, ${info.type}${info.curve ? ` ${info.curve}` : ""}`;
      await out(
        [
          `${refusal ? colors.yellow("not usable as an alternative distribution key") : colors.green("ok")}: ${description}`,
          `fingerprint: ${info.fingerprint}`,
          ...(refusal ? [`${refusal.code}: ${refusal.message}`] : []),
          ...(publicKeyPem ? ["public key to upload:", publicKeyPem.trimEnd()] : []),
          "",
        ].join("\n"),
        {
          ok: !refusal,
          ...(refusal ? { code: refusal.code, message: refusal.message } : {}),
          kind: info.kind,
          format: info.format,
          type: info.type,
          curve: info.curve ?? null,
          fingerprint: info.fingerprint,
          publicKeyPem: publicKeyPem ?? null,
        },
      );
      if (refusal) throw new Exit(ExitCode.localValidation);
    });
}

/**
 * The API key signs requests; the alternative distribution key signs install tokens that
 * marketplaces hand out. Uploading the one as the other would put the API key's private half
 * wherever install tokens are signed, so it is refused unless asked for with --yes.
 */
async function refuseApiKey(context: Context, publicKey: string, yes?: boolean): Promise<void> {
  if (yes) return;
  const apiKey = await context.credentials().catch(() => undefined);
  if (!apiKey) return;
  const [upload, api] = await Promise.all([
    fingerprint(publicKey).catch(() => undefined),
    fingerprint(apiKey.privateKey).catch(() => undefined),
  ]);
  if (upload === undefined || upload !== api) return;
  throw localError(
    "This is the public key of the API key that signs your App Store Connect requests. An alternative distribution key must be a key pair of its own.",
    "API_KEY_AS_DISTRIBUTION_KEY",
    "Make one with 'asc-kit keys generate' and upload its public-key.pem; pass --yes only if you mean to reuse the API key.",
  );
}

async function withFingerprint(key: AlternativeDistributionKey, scope?: Scope): Promise<KeyOutput> {
  const publicKey = key.attributes?.publicKey;
  const print = publicKey ? await fingerprint(publicKey).catch(() => null) : null;
  return { ...key, fingerprint: print, ...scope };
}

function scopeText(key: KeyOutput): string {
  if (key.scope === "account") return "account";
  return key.appId ? `app ${key.appId}` : "an app";
}

function describeKey(key: KeyOutput): string {
  const publicKey = key.attributes?.publicKey;
  return [
    `id:          ${key.id}`,
    ...(key.scope ? [`scope:       ${scopeText(key)}`] : []),
    `fingerprint: ${key.fingerprint ?? (publicKey ? "unreadable" : "unknown")}`,
    ...(publicKey ? [publicKey.trimEnd()] : []),
    "",
  ].join("\n");
}
