import { createRequire } from "node:module";
import { defaultBaseUrl } from "@asc-kit/core";
import { Command, CommanderError, Help, Option } from "commander";
import { registerCatalog } from "./commands/catalog.js";
import { heldVersionArgs, registerDevice } from "./commands/device.js";
import { jsonArgs } from "./json-output.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerDomains } from "./commands/domains.js";
import { registerInstallToken } from "./commands/install-token.js";
import { registerKeys } from "./commands/keys.js";
import { registerMarketplace } from "./commands/marketplace.js";
import { registerNotifications } from "./commands/notifications.js";
import { registerPackages } from "./commands/packages.js";
import { registerSandbox } from "./commands/sandbox.js";
import { registerSearchDetails } from "./commands/search-details.js";
import { registerServe } from "./commands/serve.js";
import { registerWebhooks } from "./commands/webhooks.js";
import { registerToken } from "./commands/token.js";
import { createContext } from "./context.js";
import { runDemo } from "./demo.js";
import { runMarketplaceDemo } from "./demo-marketplace.js";
import { ExitCode } from "./exit-codes.js";
import type { Io } from "./output.js";
import { Exit, fromCommanderError, report } from "./report.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/**
 * Runs `asc-kit` with the given arguments (without `node` and the script) and returns the exit
 * code. Everything it prints goes through `io`.
 */
export async function run(args: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  // Commander's errors name no command: remember which one failed, for the hint.
  let failed = program;
  eachCommand(program, (command) =>
    command.exitOverride((error) => {
      failed = command;
      throw error;
    }),
  );
  try {
    await program.parseAsync(jsonArgs(heldVersionArgs(args), commandNames(program)), {
      from: "user",
    });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof Exit) return error.exitCode;
    // --json may not be parsed yet when the command line itself is wrong.
    const asJson = program.opts<{ json?: boolean }>().json ?? wantsJson(args);
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.ok;
      if (error.code === "commander.help") return ExitCode.usage;
      return report(io, asJson, fromCommanderError(error, failed));
    }
    return report(io, asJson, error);
  }
}

/** The whole command tree; exported for the tests that hold the README to it. */
export function buildProgram(io: Io): Command {
  const program = new Command("asc-kit")
    .description(
      "App Store Connect alternative distribution from the command line: keys, domains, packages, webhooks, serving installs to devices, a simulated device, a local sandbox.",
    )
    .version(version, "-V, --version", "print the version")
    .addOption(new Option("--key-id <id>", "API key ID").env("ASC_KEY_ID"))
    .addOption(
      new Option("--issuer-id <uuid>", "issuer ID (leave out for an individual key)").env(
        "ASC_ISSUER_ID",
      ),
    )
    .addOption(
      new Option(
        "--private-key <pem>",
        "API private key contents, any shape (visible to other users in the process list: prefer the variable)",
      ).env("ASC_PRIVATE_KEY"),
    )
    .addOption(
      new Option("--private-key-path <file>", "API private key file (.p8)").env(
        "ASC_PRIVATE_KEY_PATH",
      ),
    )
    .addOption(
      new Option("--base-url <url>", "API base URL").env("ASC_BASE_URL").default(defaultBaseUrl),
    )
    .option("--json", "print JSON for scripts, errors included; --json id,name keeps those fields")
    .addOption(new Option("--json-fields <fields>").hideHelp())
    .option("--jq <program>", "run a jq program on the JSON (implies --json)")
    .option("--ndjson", "lists as one JSON object a line (implies --json)")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => undefined })
    .configureHelp({
      optionDescription(option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    });
  const context = createContext(io, program);
  registerKeys(program, context);
  registerToken(program, context);
  registerDomains(program, context);
  registerPackages(program, context);
  registerInstallToken(program, context);
  registerWebhooks(program, context);
  registerSearchDetails(program, context);
  registerNotifications(program, context);
  registerSandbox(program, context);
  registerServe(program, context);
  registerMarketplace(program, context);
  registerCatalog(program, context);
  registerDevice(program, context);
  registerDoctor(program, context);
  program
    .command("demo")
    .description(
      "walk the key and package lifecycle against a local sandbox: no Apple account needed",
    )
    .option(
      "--marketplace",
      "a marketplace's pipeline instead: notifications, downloads, serving, the catalog, a withdrawal",
    )
    .action(async (options: { marketplace?: boolean }) => {
      if (options.marketplace) await runMarketplaceDemo(io);
      else await runDemo(io);
    });
  return program;
}

/** The name of every command and subcommand, which `--json` never takes as its fields. */
function commandNames(program: Command): Set<string> {
  const names = new Set<string>();
  eachCommand(program, (command) => names.add(command.name()));
  return names;
}

function eachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const child of command.commands) eachCommand(child, visit);
}

function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some(
    (arg) => arg === "--json" || arg.startsWith("--json=") || arg === "--jq" || arg === "--ndjson",
  );
}
