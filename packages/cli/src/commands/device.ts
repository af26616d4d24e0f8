import { getAlternativeDistributionKey } from "@asc-kit/core";
import { simulateInstall, simulateUpdate } from "@asc-kit/sandbox/web";
import type { DeviceOptions, DeviceResult, DeviceStep } from "@asc-kit/sandbox/web";
import { Option } from "commander";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { readText } from "../files.js";
import { CliError, usageError } from "../report.js";
import { unwrap } from "./shared.js";

interface DeviceCommandOptions {
  origin: string;
  app: string;
  token?: string;
  link?: string;
  platform: string;
  os: string;
  publicKey?: string;
  distributionKeyId?: string;
  appleId?: string;
}

/** `asc-kit device …`: a simulated iPhone that installs and updates, checking every step. */
export function registerDevice(program: Command, context: Context): void {
  const device = program
    .command("device")
    .description(
      "install or update an app as an iPhone does, checking each step against a distribution server",
    );
  const common = (command: Command) =>
    command
      .requiredOption("--origin <url>", "the distributor's origin (https; http on loopback)")
      .requiredOption("--app <appleItemId>", "the app's Apple ID")
      .option("--token <bearer>", "the bearer token the device sends")
      .option(
        "--link <url>",
        "start from a marketplace-kit://install link (an install page's): its token is exchanged for the access token",
      )
      .option("--platform <name>", "iOS or iPadOS", "iOS")
      .option("--os <version>", "the device's OS version", "18.2")
      .option(
        "--public-key <file>",
        "the alternative distribution key's public key (default: read from App Store Connect by the token's kid)",
      )
      .option("--distribution-key-id <id>", "also require this kid in every install token")
      .option("--apple-id <id>", "also require this iss (the distributor's Apple ID)");

  common(
    device.command("install").description("restore the app, verify its token and package"),
  ).action(async (options: DeviceCommandOptions) => {
    report(context, await simulateInstall(await deviceOptions(options, context)));
  });
  common(device.command("update").description("ask for a newer version than --version, verify it"))
    .option("--version <appleVersionId>", "the version the device holds (required)")
    // What `--version` reaches the command as: see heldVersionArgs.
    .addOption(new Option("--held-version <appleVersionId>").hideHelp())
    .action(async (options: DeviceCommandOptions & { heldVersion?: string; version?: string }) => {
      const held = options.heldVersion ?? options.version;
      if (held === undefined) throw usageError("device update needs --version <appleVersionId>.");
      const checked = await deviceOptions(options, context);
      report(context, await simulateUpdate({ ...checked, appleVersionId: held }));
    });
}

/**
 * `device update --version <id>`: the program reads `--version` wherever it stands (global
 * options may follow the command), so after `device update` it is passed on under a name of its
 * own. The program's `--version` before any command is untouched.
 */
export function heldVersionArgs(args: readonly string[]): string[] {
  const at = args.findIndex((arg, index) => arg === "update" && args[index - 1] === "device");
  if (at < 0) return [...args];
  return args.map((arg, index) => {
    if (index <= at) return arg;
    if (arg === "--version") return "--held-version";
    return arg.startsWith("--version=") ? `--held-version=${arg.slice(10)}` : arg;
  });
}

async function deviceOptions(
  options: DeviceCommandOptions,
  context: Context,
): Promise<DeviceOptions> {
  if (options.platform !== "iOS" && options.platform !== "iPadOS") {
    throw usageError("--platform must be iOS or iPadOS.");
  }
  if (!/^\d{1,20}$/.test(options.app)) throw usageError("--app must be an Apple ID: digits.");
  return {
    origin: options.origin,
    appleItemId: options.app,
    publicKey: await devicePublicKey(options.publicKey, context),
    platform: options.platform,
    osVersion: options.os,
    ...(options.token ? { token: options.token } : {}),
    ...(options.link ? { link: options.link } : {}),
    ...(options.distributionKeyId ? { keyId: options.distributionKeyId } : {}),
    ...(options.appleId ? { issuer: options.appleId } : {}),
  };
}

/**
 * The key the device checks install verification tokens with: the `--public-key` file, or the
 * one App Store Connect holds for a token's `kid` (read when a token arrives).
 */
export async function devicePublicKey(
  file: string | undefined,
  context: Context,
): Promise<DeviceOptions["publicKey"]> {
  if (file) {
    return readText(file, {
      name: "--public-key",
      insteadOfKey: "Give the path of the public key file.",
    });
  }
  return async (keyId: string) => {
    const key = unwrap(await getAlternativeDistributionKey(await context.client(), keyId));
    const pem = key.data.attributes?.publicKey;
    if (!pem) throw new Error(`App Store Connect has no public key for ${keyId}.`);
    return pem;
  };
}

/** Each step a line (`--json`: a JSON object a line); a failure exits 1 naming its step. */
function report(context: Context, result: DeviceResult): void {
  const { io, colors } = context;
  const json = context.globals().json;
  for (const step of result.steps) {
    io.stdout(json ? `${JSON.stringify(step)}\n` : line(step, colors));
  }
  if (json && result.ok)
    io.stdout(
      `${JSON.stringify({ ok: true, installed: result.installed ?? null, ...(result.updated === undefined ? {} : { updated: result.updated }) })}\n`,
    );
  if (!result.ok) {
    const failed = result.steps.at(-1)!;
    throw new CliError(
      `The ${failed.step} step failed: ${failed.detail}`,
      ExitCode.localValidation,
      "DEVICE_CHECK_FAILED",
    );
  }
}

function line(step: DeviceStep, colors: Context["colors"]): string {
  return `${step.ok ? colors.green("✓") : colors.red("✗")} ${step.step}: ${step.detail}\n`;
}
