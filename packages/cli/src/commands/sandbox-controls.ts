import { toResult } from "@asc-kit/core";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { CliError, usageError } from "../report.js";
import { unwrap } from "./shared.js";

/**
 * `asc-kit sandbox publish-version` and the rest: the sandbox's test controls, what Apple does
 * on its own time, for a sandbox running in another process (`asc-kit sandbox`). They POST to
 * its `/sandbox/…` endpoints with the same credentials as every other command; against App
 * Store Connect itself they answer 404.
 */
export function registerSandboxControls(sandbox: Command, context: Context): void {
  const control = async (path: string, body: unknown, human: (answer: any) => string) => {
    const answer = await post(context, path, body);
    await context.out(human(answer), answer);
  };
  const availability = (options: { available?: boolean; unavailable?: boolean }) => {
    if (options.available === options.unavailable) {
      throw usageError("Give --available or --unavailable: one of the two.");
    }
    return options.available === true;
  };

  sandbox
    .command("publish-version")
    .description(
      "publish a new version of a package: COMPLETED, the one before REPLACED, webhooks told",
    )
    .argument("<packageId>")
    // Not --version: that is the program's own flag.
    .option("--version-string <number>", "its version number (default: the next whole number)")
    .action(async (packageId: string, options: { versionString?: string }) => {
      await control(
        `packages/${encodeURIComponent(packageId)}/versions`,
        options.versionString === undefined ? {} : { version: options.versionString },
        (answer) => `Published version ${answer.versionId} of package ${packageId}.\n`,
      );
    });
  sandbox
    .command("add-delta")
    .description("add a delta to a package version, as Apple does after the variants")
    .argument("<versionId>")
    .action(async (versionId: string) => {
      await control(
        `packageVersions/${encodeURIComponent(versionId)}/deltas`,
        {},
        (answer) => `Added delta ${answer.deltaId} to version ${versionId}.\n`,
      );
    });
  sandbox
    .command("set-availability")
    .description("tell the webhooks a package may (no longer) be distributed")
    .argument("<packageId>")
    .option("--available", "it may be distributed")
    .option("--unavailable", "it may no longer be distributed")
    .action(async (packageId: string, options: { available?: boolean; unavailable?: boolean }) => {
      const available = availability(options);
      await control(
        `packages/${encodeURIComponent(packageId)}/availability`,
        { available },
        () => `Package ${packageId} is now ${available ? "available" : "unavailable"}.\n`,
      );
    });
  sandbox
    .command("withdraw-app")
    .description("tell the webhooks an app may no longer be distributed at all")
    .argument("<appId>")
    .action(async (appId: string) => {
      await control(
        `apps/${encodeURIComponent(appId)}/withdrawal`,
        {},
        () => `App ${appId} is withdrawn.\n`,
      );
    });
  sandbox
    .command("set-territories")
    .description("tell the webhooks an app became (un)available in territories")
    .argument("<appId>")
    .requiredOption("--territories <codes>", "ISO 3166-1 alpha-3 codes, comma-separated (DEU,FRA)")
    .option("--available", "it became available there")
    .option("--unavailable", "it became unavailable there")
    .action(
      async (
        appId: string,
        options: { territories: string; available?: boolean; unavailable?: boolean },
      ) => {
        const available = availability(options);
        const territories = options.territories.split(",").filter(Boolean);
        await control(
          `apps/${encodeURIComponent(appId)}/territories`,
          { territories, available },
          () =>
            `App ${appId} is now ${available ? "available" : "unavailable"} in ${territories.join(", ")}.\n`,
        );
      },
    );
}

/**
 * POSTs to a control endpoint through the CLI's API client: its token, deadlines and error
 * model, so that a refusal or no answer is reported (and exits) as the API's are.
 */
async function post(context: Context, path: string, body: unknown): Promise<unknown> {
  const client = await context.client();
  // The controls are the sandbox's, not paths of Apple's description: untyped here.
  const untyped = client.POST as unknown as (
    path: string,
    init: { body: unknown },
  ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  const result = await toResult(untyped(`/sandbox/${path}`, { body }));
  if (result.error?.kind === "network") {
    // The API's words (host and cause), and what it most likely is: no sandbox running there.
    throw new CliError(
      result.error.message,
      ExitCode.serverOrNetwork,
      result.error.code,
      "Start one with asc-kit sandbox --env, and load what it prints (the README shows how).",
    );
  }
  return unwrap(result);
}
