import { readFile, writeFile, mkdir, access } from "node:fs/promises";
import { join } from "node:path";
import {
  addAlternativeDistributionDomain,
  addAlternativeDistributionKey,
  createAppStoreConnectClient,
  createTokenProvider,
  defaultBaseUrl,
  getAlternativeDistributionDomain,
  getAlternativeDistributionKey,
  getAppAlternativeDistributionKey,
  listAlternativeDistributionDomains,
  listAlternativeDistributionKeys,
  removeAlternativeDistributionDomain,
  removeAlternativeDistributionKey,
} from "@asc-kit/core";
import type {
  AlternativeDistributionDomain,
  AlternativeDistributionKey,
  AppStoreConnectClient,
  Result,
} from "@asc-kit/core";
import { AppStoreConnectError } from "@asc-kit/errors";
import { PemError, fingerprint, generateKeyPair, inspectKey, toPublicKeyPem } from "@asc-kit/pem";
import {
  InstallTokenError,
  signInstallVerificationToken,
  verifyInstallVerificationToken,
} from "@asc-kit/install-token";
import { startSandbox } from "@asc-kit/sandbox";
import { Command, CommanderError, Option } from "commander";
import { runDemo } from "./demo.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { json, palette, table } from "./output.js";
import type { Io } from "./output.js";

/** A failure that has already been explained to the user; carries the exit code. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface GlobalOptions {
  keyId?: string;
  issuerId?: string;
  privateKey?: string;
  privateKeyPath?: string;
  baseUrl?: string;
  json?: boolean;
}

/**
 * Runs `asc-kit` with the given arguments (without `node` and the script) and returns the exit
 * code. Everything it prints goes through `io`.
 */
export async function run(args: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...args], { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.exitCode === 0
        ? ExitCode.ok
        : ExitCode.usage;
    }
    return report(io, program.opts<GlobalOptions>().json ?? false, error);
  }
}

function buildProgram(io: Io): Command {
  const program = new Command("asc-kit")
    .description("App Store Connect alternative distribution keys, from the command line.")
    .addOption(new Option("--key-id <id>", "API key ID").env("ASC_KEY_ID"))
    .addOption(
      new Option("--issuer-id <uuid>", "issuer ID (leave out for an individual key)").env(
        "ASC_ISSUER_ID",
      ),
    )
    .addOption(
      new Option("--private-key <pem>", "API private key contents, any shape").env(
        "ASC_PRIVATE_KEY",
      ),
    )
    .addOption(
      new Option("--private-key-path <file>", "API private key file (.p8)").env(
        "ASC_PRIVATE_KEY_PATH",
      ),
    )
    .addOption(
      new Option("--base-url <url>", "API base URL").env("ASC_BASE_URL").default(defaultBaseUrl),
    )
    .option("--json", "print JSON for scripts")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run asc-kit --help for usage)");
  const globals = () => program.opts<GlobalOptions>();
  const out = (human: string, machine: unknown) =>
    io.stdout(globals().json ? json(machine) : human);
  const client = async () => createClient(globals());
  const colors = palette(io);

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
            `${path} exists already; refusing to overwrite it. Choose another --out folder.`,
          );
      }
      const pair = await generateKeyPair();
      await mkdir(options.out, { recursive: true });
      await writeFile(privatePath, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
      await writeFile(publicPath, pair.publicKeyPem, { flag: "wx" });
      const print = await fingerprint(pair.publicKeyPem);
      out(
        `Wrote ${privatePath} (keep it secret) and ${publicPath} (upload it with: asc-kit keys add ${publicPath}).\nFingerprint: ${print}\n`,
        { privateKeyPath: privatePath, publicKeyPath: publicPath, fingerprint: print },
      );
    });

  keys
    .command("add")
    .description("upload a public key (a private key is reduced to its public key first)")
    .argument("<file>", "key file, or - for standard input")
    .option("--app <appId>", "make it the key of this app instead of the account-wide key")
    .action(async (file: string, options: { app?: string }) => {
      const publicKey = await readKeyInput(file, io);
      const result = await addAlternativeDistributionKey(await client(), {
        publicKey,
        ...(options.app ? { appId: options.app } : {}),
      });
      const created = unwrap(result);
      out(
        `Added key ${created.data.id}${options.app ? ` for app ${options.app}` : " for the account"}.\n`,
        created.data,
      );
    });

  keys
    .command("list")
    .description("list keys: all, the account-wide key, or one app's key")
    .addOption(new Option("--account", "only the account-wide key").conflicts("app"))
    .option("--app <appId>", "only this app's key")
    .action(async (options: { account?: boolean; app?: string }) => {
      const api = await client();
      let list: AlternativeDistributionKey[];
      if (options.app) {
        const result = await getAppAlternativeDistributionKey(api, options.app);
        list = result.error?.kind === "not-found" ? [] : [unwrap(result).data];
      } else {
        list = unwrap(
          await listAlternativeDistributionKeys(api, { app: options.account ? "without" : "any" }),
        );
      }
      const rows = await Promise.all(
        list.map(async (key) => [key.id, await shortFingerprint(key)]),
      );
      out(list.length === 0 ? "No keys.\n" : table(["ID", "FINGERPRINT"], rows), list);
    });

  keys
    .command("get")
    .description("show one key")
    .argument("<id>")
    .action(async (id: string) => {
      const key = unwrap(await getAlternativeDistributionKey(await client(), id)).data;
      out(await describeKey(key), key);
    });

  keys
    .command("app")
    .description("show the key of one app")
    .argument("<appId>")
    .action(async (appId: string) => {
      const key = unwrap(await getAppAlternativeDistributionKey(await client(), appId)).data;
      out(await describeKey(key), key);
    });

  keys
    .command("remove")
    .description("remove a key")
    .argument("<id>")
    .option("--yes", "do not ask for confirmation")
    .action(async (id: string, options: { yes?: boolean }) => {
      await confirmRemoval(io, options.yes, `Remove alternative distribution key ${id}? [y/N] `);
      unwrap(await removeAlternativeDistributionKey(await client(), id));
      out(`Removed key ${id}.\n`, { removed: id });
    });

  keys
    .command("check")
    .description("check a key offline: normalize, inspect, fingerprint")
    .argument("<file>", "key file, or - for standard input")
    .action(async (file: string) => {
      const input = await readKeyInput(file, io);
      try {
        const info = await inspectKey(input);
        const publicKeyPem = await toPublicKeyPem(input).catch(() => undefined);
        const usable = publicKeyPem !== undefined;
        out(
          [
            `${usable ? colors.green("ok") : colors.yellow("not usable as an alternative distribution key")}: ${info.kind} key, ${info.format}, ${info.type}${info.curve ? ` ${info.curve}` : ""}`,
            `fingerprint: ${info.fingerprint}`,
            ...(publicKeyPem ? ["public key to upload:", publicKeyPem.trimEnd()] : []),
            "",
          ].join("\n"),
          {
            ok: true,
            kind: info.kind,
            format: info.format,
            type: info.type,
            curve: info.curve ?? null,
            fingerprint: info.fingerprint,
            publicKeyPem: publicKeyPem ?? null,
          },
        );
        if (!usable) throw new Exit(ExitCode.localValidation);
      } catch (error) {
        if (!(error instanceof PemError)) throw error;
        if (globals().json) {
          io.stdout(json({ ok: false, code: error.code, message: error.message }));
          throw new Exit(ExitCode.localValidation);
        }
        throw error;
      }
    });

  program
    .command("token")
    .description(
      "print a token for use with curl (it is a secret: it grants API access for up to 20 minutes)",
    )
    .option("--scope <scope...>", 'restrict the token, e.g. "GET /v1/alternativeDistributionKeys"')
    .action(async (options: { scope?: string[] }) => {
      const { keyId, privateKey } = await credentials(globals());
      const issuerId = globals().issuerId;
      const token = await createTokenProvider({
        keyId,
        privateKey,
        ...(issuerId ? { issuerId } : {}),
        ...(options.scope ? { scope: options.scope } : {}),
      }).getToken();
      out(`${token}\n`, { token });
    });

  const domains = program.command("domains").description("manage web distribution domains");

  domains
    .command("add")
    .description("register a web domain for alternative distribution")
    .argument("<domain>", "host name, such as downloads.example.com")
    .requiredOption("--name <referenceName>", "a reference name for the domain")
    .action(async (domain: string, options: { name: string }) => {
      const created = unwrap(
        await addAlternativeDistributionDomain(await client(), {
          domain,
          referenceName: options.name,
        }),
      ).data;
      out(`Added domain ${created.attributes?.domain ?? domain} (${created.id}).\n`, created);
    });

  domains
    .command("list")
    .description("list the registered domains")
    .action(async () => {
      const list = unwrap(await listAlternativeDistributionDomains(await client()));
      out(
        list.length === 0
          ? "No domains.\n"
          : table(["ID", "DOMAIN", "NAME", "CREATED"], list.map(domainRow)),
        list,
      );
    });

  domains
    .command("get")
    .description("show one domain")
    .argument("<id>")
    .action(async (id: string) => {
      const domain = unwrap(await getAlternativeDistributionDomain(await client(), id)).data;
      out(table(["ID", "DOMAIN", "NAME", "CREATED"], [domainRow(domain)]), domain);
    });

  domains
    .command("remove")
    .description("remove a domain")
    .argument("<id>")
    .option("--yes", "do not ask for confirmation")
    .action(async (id: string, options: { yes?: boolean }) => {
      await confirmRemoval(io, options.yes, `Remove domain ${id}? [y/N] `);
      unwrap(await removeAlternativeDistributionDomain(await client(), id));
      out(`Removed domain ${id}.\n`, { removed: id });
    });

  const installToken = program
    .command("install-token")
    .description(
      "sign and verify install verification tokens with an alternative distribution key",
    );

  installToken
    .command("sign")
    .description("sign a token for one install (prints it: hand it to the installing device)")
    .requiredOption("--key <file>", "the alternative distribution key's private key file")
    .option(
      "--key-id <id>",
      "the alternative distribution key's id in App Store Connect (required)",
    )
    .requiredOption("--apple-id <id>", "the Apple ID of the distributing app or marketplace")
    .requiredOption("--bundle-id <id>", "the bundle ID of the app being installed")
    .option("--redownload", "a reinstall rather than a first download")
    .option("--install-id <id>", "sent as iid")
    .option("--version-id <id>", "sent as vid")
    .action(
      async (options: {
        key: string;
        keyId?: string;
        appleId: string;
        bundleId: string;
        redownload?: boolean;
        installId?: string;
        versionId?: string;
      }) => {
        // --key-id is also a global option (the API key's ID): only a value typed here counts.
        const keyId =
          options.keyId ??
          (program.getOptionValueSource("keyId") === "cli" ? globals().keyId : undefined);
        if (!keyId) {
          throw usageError(
            "install-token sign needs --key-id, the alternative distribution key's id.",
          );
        }
        const token = await signInstallVerificationToken({
          privateKey: await readText(options.key),
          keyId,
          appleItemId: options.appleId,
          bundleId: options.bundleId,
          downloadType: options.redownload ? "redownload" : "download",
          ...(options.installId ? { installId: options.installId } : {}),
          ...(options.versionId ? { versionId: options.versionId } : {}),
        });
        out(`${token}\n`, { token });
      },
    );

  installToken
    .command("verify")
    .description("verify a token's signature, header, audience and lifetime against a public key")
    .argument("<token>")
    .requiredOption("--public-key <file>", "the alternative distribution key's public key file")
    .option("--bundle-id <id>", "also require this bundle ID")
    .action(async (token: string, options: { publicKey: string; bundleId?: string }) => {
      const claims = await verifyInstallVerificationToken(
        token,
        await readText(options.publicKey),
        {
          ...(options.bundleId ? { bundleId: options.bundleId } : {}),
        },
      );
      out(
        `${colors.green("valid")}: ${Object.entries(claims)
          .map(([name, value]) => `${name}=${String(value)}`)
          .join(" ")}\n`,
        { ok: true, claims },
      );
    });

  program
    .command("sandbox")
    .description("run a local App Store Connect sandbox; prints one JSON line when ready")
    .option("--port <n>", "port to listen on", "0")
    .option("--data <file>", "keep state in this file")
    .action(async (options: { port: string; data?: string }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw usageError(`--port must be a port number, not '${options.port}'.`);
      const sandbox = await startSandbox({
        port,
        ...(options.data ? { dataFile: options.data } : {}),
      });
      io.stdout(`${JSON.stringify({ url: sandbox.url, ...sandbox.credentials })}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void sandbox.stop().then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });

  program
    .command("demo")
    .description("walk the key lifecycle against a local sandbox: no Apple account needed")
    .action(async () => {
      await runDemo(io);
    });

  return program;
}

async function createClient(options: GlobalOptions): Promise<AppStoreConnectClient> {
  const { keyId, privateKey } = await credentials(options);
  return createAppStoreConnectClient({
    keyId,
    privateKey,
    ...(options.issuerId ? { issuerId: options.issuerId } : {}),
    baseUrl: options.baseUrl ?? defaultBaseUrl,
    userAgent: "asc-kit-cli",
  });
}

async function credentials(options: GlobalOptions): Promise<{ keyId: string; privateKey: string }> {
  if (!options.keyId) throw usageError("No API key ID: set ASC_KEY_ID or pass --key-id.");
  if (options.privateKey && options.privateKeyPath) {
    throw usageError(
      "Give the private key once: ASC_PRIVATE_KEY (--private-key) or ASC_PRIVATE_KEY_PATH (--private-key-path), not both.",
    );
  }
  if (options.privateKey) return { keyId: options.keyId, privateKey: options.privateKey };
  if (options.privateKeyPath)
    return { keyId: options.keyId, privateKey: await readText(options.privateKeyPath) };
  throw usageError(
    "No API private key: set ASC_PRIVATE_KEY or ASC_PRIVATE_KEY_PATH (or pass --private-key / --private-key-path).",
  );
}

/** Asks on a terminal; elsewhere insists on --yes. Declining ends the command with success. */
async function confirmRemoval(io: Io, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!io.isTty) throw usageError("Refusing to remove without confirmation: pass --yes.");
  if (!(await io.confirm(question))) throw new Exit(ExitCode.ok);
}

function domainRow(domain: AlternativeDistributionDomain): string[] {
  const attributes = domain.attributes ?? {};
  return [
    domain.id,
    attributes.domain ?? "",
    attributes.referenceName ?? "",
    attributes.createdDate ?? "",
  ];
}

function unwrap<T>(result: Result<T>): T {
  if (result.error) throw result.error;
  return result.data as T;
}

async function describeKey(key: AlternativeDistributionKey): Promise<string> {
  const publicKey = key.attributes?.publicKey;
  return [
    `id:          ${key.id}`,
    `fingerprint: ${publicKey ? await fingerprint(publicKey).catch(() => "unreadable") : "unknown"}`,
    ...(publicKey ? [publicKey.trimEnd()] : []),
    "",
  ].join("\n");
}

async function shortFingerprint(key: AlternativeDistributionKey): Promise<string> {
  const publicKey = key.attributes?.publicKey;
  if (!publicKey) return "";
  return (await fingerprint(publicKey).catch(() => "unreadable")).slice(0, 16);
}

async function readKeyInput(file: string, io: Io): Promise<string> {
  return file === "-" ? io.readStdin() : readText(file);
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw localError(
      `Cannot read ${path}${code === "ENOENT" ? ": no such file" : code ? ` (${code})` : ""}.`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function usageError(message: string): CliError {
  return new CliError(message, ExitCode.usage);
}

function localError(message: string): CliError {
  return new CliError(message, ExitCode.localValidation);
}

/** Prints an error (message and hint, never a secret) and returns its exit code. */
function report(io: Io, asJson: boolean, error: unknown): number {
  const colors = palette(io);
  let code: number;
  let message: string;
  let hint: string | undefined;
  let kind: string;
  if (AppStoreConnectError.is(error)) {
    code = exitCodeFor(error);
    ({ message, hint } = error);
    kind = error.code;
  } else if (error instanceof PemError || error instanceof InstallTokenError) {
    code = ExitCode.localValidation;
    message = error.message;
    kind = error.code;
  } else if (error instanceof CliError) {
    code = error.exitCode;
    message = error.message;
    kind = code === ExitCode.usage ? "USAGE" : "LOCAL";
  } else if (error instanceof TypeError) {
    code = ExitCode.localValidation;
    message = error.message;
    kind = "INVALID_ARGUMENT";
  } else {
    code = ExitCode.serverOrNetwork;
    message = error instanceof Error ? error.message : String(error);
    kind = "UNEXPECTED";
  }
  if (asJson) {
    io.stderr(json({ ok: false, code: kind, message, ...(hint ? { hint } : {}) }));
  } else {
    io.stderr(
      `${colors.red("error:")} ${message}\n${hint ? `${colors.dim("hint:")} ${hint}\n` : ""}`,
    );
  }
  return code;
}
