import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server as HttpsServer } from "node:https";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  accountTokens,
  createDistributionHandler,
  createInstallPageHandler,
  createSignInHandler,
  deviceUrl,
  marketplaceKitConfiguration,
} from "@asc-kit/distribution";
import type { AccountTokens, DistributionStore } from "@asc-kit/distribution";
import {
  findLayouts,
  layoutFileHandler,
  registerLayouts,
  registeredFileHandler,
} from "@asc-kit/distribution/node";
import type { Layout } from "@asc-kit/distribution/node";
import { validatePackageLayout } from "@asc-kit/download";
import { createInstallTokenSigner } from "@asc-kit/install-token";
import type { InstallTokenSigner } from "@asc-kit/install-token";
import { nodeListener } from "@asc-kit/notifications/node";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { makeFolder, readText } from "../files.js";
import { describeErrno, errnoOf, localError, shown, usageError } from "../report.js";
import { openStore, tokenSecret } from "./serve-data.js";
import { untilStopped } from "./shared.js";

interface ServeOptions {
  key?: string;
  distributionKeyId?: string;
  appleId?: string;
  publicUrl?: string;
  port: string;
  host: string;
  data?: string;
  databaseUrl?: string;
  trialAccount?: string;
  accountHook?: string;
  tlsCert?: string;
  tlsKey?: string;
  catalogUrl?: string;
}

/** `asc-kit serve`: the server devices call, over the layouts `packages download` wrote. */
export function registerServe(program: Command, context: Context): void {
  const serve = program
    .command("serve")
    .description(
      "serve package layouts to devices: /.well-known/marketplace-kit, restore, updates and the packages' files",
    )
    .argument(
      "<root>",
      "the folder holding package layouts, as `packages download --out` writes them",
    )
    // Checked in the action, not by commander, which would ask them of `serve token` too.
    .option("--key <file>", "the alternative distribution key's private key file (required)")
    .option(
      "--distribution-key-id <id>",
      "the alternative distribution key's id in App Store Connect, the tokens' kid (required)",
    )
    .option(
      "--apple-id <id>",
      "the Apple ID of the distributing app or marketplace, the tokens' iss (required)",
    )
    .option(
      "--public-url <url>",
      "the https URL devices reach this server at (default: where it listens)",
    )
    .option("--port <n>", "port to listen on (0: any free port)", "0")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option(
      "--data <dir>",
      "where the embedded store and the token secret live (default: <root>.serve-data, beside the root)",
    )
    .option("--database-url <url>", "keep installs in PostgreSQL instead of the embedded store")
    .option(
      "--account-hook <module>",
      "a JavaScript module whose default export answers the signed-in account of a web request (or undefined): your website's session check",
    )
    .option("--tls-cert <file>", "serve https with this certificate (PEM; with --tls-key)")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option(
      "--catalog-url <url>",
      "also serve the search catalog (sitemap.xml and a page per app) under this https URL, on this server",
    )
    .option(
      "--trial-account <id>",
      "for trials: every visitor of the install pages and the sign-in is this account",
    )
    .action(async (root: string, options: ServeOptions) => {
      const running = await start(root, options, context);
      context.io.stdout(`${JSON.stringify(running.summary)}\n`);
      await untilStopped(() => running.stop());
    });

  serve
    .command("token")
    .description(
      "print a bearer token that `asc-kit serve` on the same --data accepts for an account",
    )
    .option("--data <dir>", "the server's data folder (required)")
    .requiredOption("--account <id>", "the account the token stands for")
    .option("--lifetime <seconds>", "how long it is valid", "86400")
    .action(
      async (options: { data?: string; account: string; lifetime: string }, command: Command) => {
        // Global options are read wherever they stand, so `serve` may have taken --data itself.
        const data = options.data ?? command.parent?.opts<{ data?: string }>().data;
        if (data === undefined)
          throw usageError("serve token needs --data <dir>: the server's data folder.");
        const lifetime = Number(options.lifetime);
        if (!/^\d{1,9}$/.test(options.lifetime) || lifetime < 1) {
          throw usageError("--lifetime must be a whole number of seconds, at least 1.");
        }
        await makeFolder(data);
        const tokens = accountTokens(await tokenSecret(data));
        const token = await tokens.issue(options.account, lifetime);
        await context.out(`${token}\n`, { token, account: options.account, expiresIn: lifetime });
      },
    );
}

async function start(root: string, given: ServeOptions, context: Context) {
  const options = checked(given);
  const privateKey = await readText(options.key, {
    name: "--key",
    insteadOfKey: "Give the path of the alternative distribution key's private key file.",
  });
  const signer = createInstallTokenSigner({
    privateKey,
    keyId: options.distributionKeyId,
    appleItemId: options.appleId,
    lifetimeSeconds: 1200,
  });
  const dataDir = options.data ?? `${resolve(root)}.serve-data`;
  if (isWithin(root, dataDir)) {
    throw usageError("--data must be outside the root: everything under the root may be served.");
  }
  await makeFolder(dataDir);
  const secret = await tokenSecret(dataDir);
  const tls = await tlsOf(options);
  const server = tls ? createHttpsServer(tls) : createServer();
  const address = await listen(server, Number(options.port), options.host);
  const publicUrl = publicUrlOf(options.publicUrl, address, tls !== undefined);
  const store = await openStore(dataDir, options.databaseUrl).catch(async (error: unknown) => {
    server.close();
    throw error;
  });
  try {
    const layouts = await servedLayouts(root, publicUrl, context);
    await registerLayouts(store.store, layouts);
    const handlers = await webHandlers({
      root,
      ...(options.catalogUrl === undefined ? {} : { catalogUrl: options.catalogUrl }),
      store: store.store,
      signer,
      tokens: accountTokens(secret),
      publicUrl,
      layouts,
      account: await accountCheck(options),
      onError: (error) =>
        context.io.stderr(`error: ${(error as Error)?.message ?? String(error)}\n`),
    });
    server.on(
      "request",
      nodeListener(async (request) => {
        for (const handler of handlers) {
          const answer = await handler(request);
          if (answer) return answer;
        }
        return new Response(null, { status: 404 });
      }),
    );
    return {
      summary: {
        url: publicUrl.replace(/\/$/, ""),
        configuration: new URL(".well-known/marketplace-kit", publicUrl).href,
        store: store.kind,
        data: dataDir,
        layouts: layouts.map(({ path, record }) => ({
          path,
          appleItemId: record.appleItemId,
          appleVersionId: record.appleVersionId,
          packageUrl: record.packageUrl,
          installPage: new URL(`install/${record.appleItemId}`, publicUrl).href,
        })),
      },
      async stop() {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
        await store.close();
      },
    };
  } catch (error) {
    server.close();
    await store.close();
    throw error;
  }
}

type AccountCheck = (request: Request) => string | undefined | Promise<string | undefined>;

/**
 * Who is signed in on the website, for the install pages and the sign-in: the hook module's
 * answer, the trial account for everyone, or nobody.
 */
async function accountCheck(options: ServeOptions): Promise<AccountCheck> {
  if (options.trialAccount !== undefined && options.accountHook !== undefined) {
    throw usageError("Give --account-hook or --trial-account, not both.");
  }
  if (options.trialAccount !== undefined) return () => options.trialAccount;
  if (options.accountHook === undefined) return () => undefined;
  const hook = (await import(pathToFileURL(resolve(options.accountHook)).href).catch(
    (error: unknown) => {
      throw localError(
        `Cannot load --account-hook ${shown(options.accountHook!)}: ${(error as Error).message}`,
        "ACCOUNT_HOOK",
      );
    },
  )) as { default?: unknown };
  if (typeof hook.default !== "function") {
    throw localError(
      "--account-hook's module must export a function as its default: (request) => account or undefined.",
      "ACCOUNT_HOOK",
    );
  }
  return hook.default as AccountCheck;
}

/**
 * The server's handlers, tried in turn: the layouts' files, those of versions registered since
 * (by a marketplace's pipeline on the same database), an install page per app
 * (`/install/<appleItemId>`), the sign-in, and the distribution handler (with the catalog).
 */
async function webHandlers(parts: {
  root: string;
  catalogUrl?: string;
  store: DistributionStore;
  signer: InstallTokenSigner;
  tokens: AccountTokens;
  publicUrl: string;
  layouts: Layout[];
  account: AccountCheck;
  onError: (error: unknown) => void;
}): Promise<Array<(request: Request) => Promise<Response | undefined>>> {
  const { store, signer, tokens, publicUrl, layouts, account } = parts;
  const apps = new Map(layouts.map(({ record }) => [record.appleItemId, record.bundleId]));
  const pages = [...apps].map(([appleItemId, appName]) =>
    createInstallPageHandler({
      store,
      signer,
      appleItemId,
      appName,
      account,
      path: `/install/${appleItemId}`,
    }),
  );
  const signIn = createSignInHandler({
    store,
    issuer: publicUrl,
    tokens,
    signIn: async (request, { loginHint }) => {
      const signedIn = await account(request);
      if (signedIn) return { account: signedIn };
      const who = loginHint ? ` as ${loginHint.replace(/[<>&"']/g, "")}` : "";
      return new Response(
        `<!doctype html><title>Sign in</title><p>Sign in${who} on this website first: this server has no sign-in page of its own (asc-kit serve --account-hook).</p>`,
        {
          status: 401,
          headers: { "content-type": "text/html; charset=utf-8" },
        },
      );
    },
  });
  const distribution = createDistributionHandler({
    store,
    configuration: marketplaceKitConfiguration({
      restore: new URL("marketplace-kit/restore", publicUrl).href,
      updatesUrl: new URL("marketplace-kit/updates", publicUrl).href,
    }),
    signer,
    authenticate: tokens.authenticate,
    onError: parts.onError,
    ...(parts.catalogUrl === undefined ? {} : { catalog: { url: parts.catalogUrl } }),
  });
  // Versions a marketplace's pipeline registers while this runs are served from the root too.
  const registered = registeredFileHandler(store, parts.root, publicUrl);
  return [layoutFileHandler(layouts), registered, ...pages, signIn, distribution];
}

/** The certificate and key for https, when both are given. */
async function tlsOf(options: ServeOptions): Promise<{ cert: string; key: string } | undefined> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw usageError("--tls-cert and --tls-key go together.");
  }
  if (options.tlsCert === undefined) return undefined;
  const cert = await readText(options.tlsCert, {
    name: "--tls-cert",
    insteadOfKey: "Give the certificate's file name.",
  });
  const key = await readText(options.tlsKey!, {
    name: "--tls-key",
    insteadOfKey: "Give the key's file name.",
  });
  return { cert, key };
}

/** The options, every missing or malformed one named at once. */
function checked(given: ServeOptions) {
  const missing = (["key", "distributionKeyId", "appleId"] as const)
    .filter((name) => given[name] === undefined)
    .map((name) => `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`);
  if (missing.length > 0) throw usageError(`serve needs ${missing.join(", ")}.`);
  const options = given as Required<Pick<ServeOptions, "key" | "distributionKeyId" | "appleId">> &
    ServeOptions;
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port > 65535) {
    throw usageError(`--port must be a port number from 0 to 65535, not ${shown(options.port)}.`);
  }
  if (options.catalogUrl !== undefined) {
    try {
      deviceUrl(options.catalogUrl, "--catalog-url");
    } catch (error) {
      throw usageError((error as Error).message);
    }
  }
  if (!/^\d{1,20}$/.test(options.appleId)) {
    throw usageError("--apple-id must be an Apple ID: digits, such as 6476788026.");
  }
  return options;
}

/**
 * The layouts under the root that pass Apple's check (every chunk verified) before any device
 * is handed one; each refused one named on standard error.
 */
async function servedLayouts(root: string, publicUrl: string, context: Context) {
  const { layouts: found, refused } = await findLayouts(root, publicUrl).catch((error: unknown) => {
    throw localError(
      `Cannot read ${shown(root)}: ${describeErrno(errnoOf(error) ?? "")}.`,
      errnoOf(error) ?? "LOCAL",
    );
  });
  const layouts: typeof found = [];
  for (const layout of found) {
    const report = await validatePackageLayout(join(root, ...layout.path.split("/")));
    if (report.ok) layouts.push(layout);
    else {
      const reason = report.findings.map((finding) => finding.message).join(" ");
      refused.push({ path: layout.path, reason });
    }
  }
  for (const { path, reason } of refused) context.io.stderr(`not served: ${path}: ${reason}\n`);
  return layouts;
}

async function listen(
  server: Server | HttpsServer,
  port: number,
  host: string,
): Promise<AddressInfo> {
  await new Promise<void>((done, fail) => {
    server.once("error", (error) => {
      const errno = errnoOf(error);
      fail(
        errno === "EADDRINUSE"
          ? localError(
              `Port ${port} is in use: choose another --port, or 0 for any free port.`,
              errno,
            )
          : localError(
              `Cannot listen on ${shown(host)}: ${errno ? describeErrno(errno) : "failed"}.`,
              errno ?? "LOCAL",
            ),
      );
    });
    server.listen({ port, host }, done);
  });
  return server.address() as AddressInfo;
}

/** The URL devices use: given (https, or http on loopback), or where the server listens. */
function publicUrlOf(given: string | undefined, address: AddressInfo, secure: boolean): string {
  if (given !== undefined) {
    try {
      const url = deviceUrl(given, "--public-url");
      return url.endsWith("/") ? url : `${url}/`;
    } catch (error) {
      throw usageError((error as Error).message);
    }
  }
  const loopback =
    ["0.0.0.0", "::", "::1"].includes(address.address) || address.address.startsWith("127.");
  // A certificate for local trials names localhost, not an address.
  if (secure && loopback) return `https://localhost:${address.port}/`;
  const host = loopback
    ? "127.0.0.1"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  return `${secure ? "https" : "http"}://${host}:${address.port}/`;
}

function isWithin(root: string, path: string): boolean {
  const from = resolve(root);
  const to = resolve(path);
  return to === from || to.startsWith(`${from}/`);
}
