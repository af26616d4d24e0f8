import { listAlternativeDistributionDomains, listAlternativeDistributionKeys } from "@asc-kit/core";
import { simulateInstall } from "@asc-kit/sandbox/web";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { Exit, usageError } from "../report.js";
import { devicePublicKey } from "./device.js";
import { unwrap } from "./shared.js";

/** One check of a live deployment: passed, failed (with how to fix it), or skipped. */
interface Finding {
  check: string;
  verdict: "ok" | "fail" | "skipped";
  message: string;
  fix?: string;
}

interface DoctorOptions {
  app?: string;
  link?: string;
  token?: string;
  publicKey?: string;
  distributionKeyId?: string;
}

/** `asc-kit doctor <https-origin>`: checks a live deployment the way a device would. */
export function registerDoctor(program: Command, context: Context): void {
  program
    .command("doctor")
    .description(
      "check a live deployment as a device would: both well-known files, App Store Connect, an install",
    )
    .argument("<origin>", "the https origin devices reach, such as https://apps.example.com")
    .option(
      "--app <appleItemId>",
      "with --link or --token: install this app on the simulated device",
    )
    .option("--link <url>", "a test account's marketplace-kit://install link")
    .option("--token <bearer>", "a test account's bearer token")
    .option(
      "--public-key <file>",
      "the alternative distribution key's public key (default: from App Store Connect)",
    )
    .option(
      "--distribution-key-id <id>",
      "the key the tokens must name (kid), checked in App Store Connect",
    )
    .action(async (given: string, options: DoctorOptions) => {
      let origin: URL;
      try {
        origin = new URL(given);
      } catch {
        throw usageError("The origin must be a URL, such as https://apps.example.com.");
      }
      const findings: Finding[] = [];
      const found = (finding: Finding) => {
        findings.push(finding);
        const mark = { ok: "✓", fail: "✗", skipped: "-" }[finding.verdict];
        if (!context.globals().json) {
          context.io.stdout(
            `${mark} ${finding.check}: ${finding.message}${finding.fix ? `\n  fix: ${finding.fix}` : ""}\n`,
          );
        }
      };
      await checkDeployment(origin, found);
      await checkAppStoreConnect(origin, options, context, found);
      await checkInstall(origin, options, context, found);
      const failed = findings.filter((finding) => finding.verdict === "fail").length;
      // The findings were printed as they came; scripts get them at once.
      if (context.globals().json) await context.out("", { ok: failed === 0, findings });
      if (failed > 0) throw new Exit(ExitCode.localValidation);
    });
}

/** The origin and both well-known files, fetched as a device does: valid TLS, no redirect. */
async function checkDeployment(origin: URL, found: (finding: Finding) => void): Promise<void> {
  if (origin.protocol !== "https:") {
    found({
      check: "origin",
      verdict: "fail",
      message: `${origin.origin} is not https: devices use TLS for every call.`,
      fix: "Serve it over https with a certificate devices trust.",
    });
    return;
  }
  found({ check: "origin", verdict: "ok", message: origin.origin });
  const kit = await wellKnown(origin, "marketplace-kit", found);
  if (kit) {
    const updates = kit.updates as Record<string, unknown> | undefined;
    const problems = [
      sameHost(kit.restore, origin, "restore"),
      sameHost(updates?.url, origin, "updates.url"),
      typeof updates?.pollingInterval === "number" &&
      updates.pollingInterval >= 24 &&
      updates.pollingInterval <= 8784
        ? undefined
        : `updates.pollingInterval is ${JSON.stringify(updates?.pollingInterval)}: it is in hours, at least 24 (43200 is five years).`,
    ].filter(Boolean);
    found(
      problems.length === 0
        ? {
            check: "marketplace-kit",
            verdict: "ok",
            message: `restore and updates on ${origin.host}, updates every ${String(updates?.pollingInterval)} h`,
          }
        : {
            check: "marketplace-kit",
            verdict: "fail",
            message: problems.join(" "),
            fix: "Write the file as `marketplaceKitConfiguration` does (@asc-kit/distribution).",
          },
    );
  }
  const oauth = await wellKnown(origin, "oauth-authorization-server", found);
  if (oauth) {
    const methods = oauth.code_challenge_methods_supported;
    const problems = [
      oauth.issuer === origin.origin
        ? undefined
        : `issuer is ${JSON.stringify(oauth.issuer)}, not ${origin.origin}.`,
      sameHost(oauth.token_endpoint, origin, "token_endpoint"),
      sameHost(oauth.authorization_endpoint, origin, "authorization_endpoint"),
      Array.isArray(methods) && methods.includes("S256")
        ? undefined
        : 'code_challenge_methods_supported must hold "S256" (Apple\'s example says "5256", a typo).',
    ].filter(Boolean);
    found(
      problems.length === 0
        ? {
            check: "oauth-authorization-server",
            verdict: "ok",
            message: "S256, endpoints on the same host",
          }
        : {
            check: "oauth-authorization-server",
            verdict: "fail",
            message: problems.join(" "),
            fix: "Serve the metadata `createSignInHandler` (@asc-kit/distribution) writes.",
          },
    );
  }
}

/** A well-known file as JSON, or undefined once a failure is reported. */
async function wellKnown(
  origin: URL,
  name: string,
  found: (finding: Finding) => void,
): Promise<Record<string, unknown> | undefined> {
  const check = name;
  let response: Response;
  try {
    response = await fetch(new URL(`/.well-known/${name}`, origin), {
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    found({
      check,
      verdict: "fail",
      message: `/.well-known/${name} could not be fetched: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
      fix: "A certificate devices trust, for this host name; the server reachable on 443.",
    });
    return undefined;
  }
  if (response.status >= 300 && response.status < 400) {
    found({
      check,
      verdict: "fail",
      message: `/.well-known/${name} answers a redirect (${response.status}): devices follow none.`,
      fix: "Serve the file itself at this path.",
    });
    return undefined;
  }
  if (response.status !== 200) {
    found({
      check,
      verdict: "fail",
      message: `/.well-known/${name} answers ${response.status}.`,
      fix: "Serve it as JSON at this path.",
    });
    return undefined;
  }
  try {
    const body = JSON.parse((await response.text()).slice(0, 1024 * 1024)) as unknown;
    if (typeof body === "object" && body !== null && !Array.isArray(body))
      return body as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  found({ check, verdict: "fail", message: `/.well-known/${name} is not a JSON object.` });
  return undefined;
}

function sameHost(value: unknown, origin: URL, name: string): string | undefined {
  try {
    const url = new URL(String(value));
    if (url.protocol !== "https:") return `${name} is not https.`;
    return url.host === origin.host
      ? undefined
      : `${name} is on ${url.host}, not on ${origin.host}.`;
  } catch {
    return `${name} is missing or not a URL.`;
  }
}

/** The registered domain and the key, when App Store Connect credentials are given. */
async function checkAppStoreConnect(
  origin: URL,
  options: DoctorOptions,
  context: Context,
  found: (finding: Finding) => void,
): Promise<void> {
  const client = await context.client().catch(() => undefined);
  if (!client) {
    found({
      check: "app-store-connect",
      verdict: "skipped",
      message: "no ASC_* credentials: the domain and the key are not checked.",
    });
    return;
  }
  try {
    await checkDomainAndKey(origin, options, client, found);
  } catch (error) {
    found({
      check: "app-store-connect",
      verdict: "fail",
      message: `App Store Connect could not be asked: ${(error as Error).message}`,
    });
  }
}

async function checkDomainAndKey(
  origin: URL,
  options: DoctorOptions,
  client: Awaited<ReturnType<Context["client"]>>,
  found: (finding: Finding) => void,
): Promise<void> {
  const domains = unwrap(await listAlternativeDistributionDomains(client));
  const host = origin.hostname.toLowerCase();
  const registered = domains.find((item) => {
    const domain = String(item.attributes?.domain ?? "").toLowerCase();
    return domain !== "" && (host === domain || host.endsWith(`.${domain}`));
  });
  found(
    registered
      ? {
          check: "domain",
          verdict: "ok",
          message: `${host} is under the registered ${String(registered.attributes?.domain)}`,
        }
      : {
          check: "domain",
          verdict: "fail",
          message: `${host} is under no registered alternative distribution domain.`,
          fix: `asc-kit domains add ${host} --name "…"`,
        },
  );
  const keys = unwrap(await listAlternativeDistributionKeys(client));
  const wanted = options.distributionKeyId;
  const key = wanted ? keys.find((item) => item.id === wanted) : keys[0];
  found(
    key
      ? { check: "key", verdict: "ok", message: `alternative distribution key ${key.id}` }
      : {
          check: "key",
          verdict: "fail",
          message: wanted
            ? `no alternative distribution key ${wanted}.`
            : "no alternative distribution key.",
          fix: "asc-kit keys generate --out keys && asc-kit keys add keys/public-key.pem",
        },
  );
}

/** The simulated device's install, when a test account's link or token is given. */
async function checkInstall(
  origin: URL,
  options: DoctorOptions,
  context: Context,
  found: (finding: Finding) => void,
): Promise<void> {
  if (!options.app || (!options.link && !options.token)) {
    found({
      check: "install",
      verdict: "skipped",
      message: "give --app with --link or --token to install on the simulated device.",
    });
    return;
  }
  if (!options.publicKey && !(await context.client().catch(() => undefined))) {
    found({
      check: "install",
      verdict: "skipped",
      message: "give --public-key, or ASC_* credentials to read it, to check the tokens.",
    });
    return;
  }
  const result = await simulateInstall({
    origin: origin.origin,
    appleItemId: options.app,
    publicKey: await devicePublicKey(options.publicKey, context),
    ...(options.link ? { link: options.link } : {}),
    ...(options.token ? { token: options.token } : {}),
    ...(options.distributionKeyId ? { keyId: options.distributionKeyId } : {}),
  });
  for (const step of result.steps) {
    found(
      step.ok
        ? { check: `install: ${step.step}`, verdict: "ok", message: step.detail }
        : { check: `install: ${step.step}`, verdict: "fail", message: step.detail },
    );
  }
}
