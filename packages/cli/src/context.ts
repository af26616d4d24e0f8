import { createAppStoreConnectClient, defaultBaseUrl } from "@asc-kit/core";
import type { AppStoreConnectClient } from "@asc-kit/core";
import type { Command } from "commander";
import { readText } from "./files.js";
import { renderMachine } from "./json-output.js";
import { palette } from "./output.js";
import type { Io } from "./output.js";
import { usageError } from "./report.js";

export interface GlobalOptions {
  keyId?: string;
  issuerId?: string;
  privateKey?: string;
  privateKeyPath?: string;
  baseUrl?: string;
  json?: boolean;
  /** `--json id,name`: the fields to keep (see `jsonArgs`). */
  jsonFields?: string;
  jq?: string;
  ndjson?: boolean;
}

/** The API key the CLI signs requests with. */
export interface ApiCredentials {
  keyId: string;
  issuerId?: string;
  privateKey: string;
}

/** What every command module gets: where to print, the global options, an API client. */
export interface Context {
  io: Io;
  program: Command;
  colors: ReturnType<typeof palette>;
  globals(): GlobalOptions;
  /**
   * Prints `human`, or `machine` for scripts with `--json` (plain objects, `--json fields`,
   * `--jq`, `--ndjson`: see json-output.ts).
   */
  out(human: string, machine: unknown): Promise<void>;
  credentials(): Promise<ApiCredentials>;
  client(): Promise<AppStoreConnectClient>;
}

export function createContext(io: Io, program: Command): Context {
  const globals = () => program.opts<GlobalOptions>();
  const credentials = () => readCredentials(program);
  return {
    io,
    program,
    colors: palette(io),
    globals,
    async out(human, machine) {
      const options = globals();
      if (!options.json) return io.stdout(human);
      io.stdout(
        await renderMachine(machine, {
          ...(options.jsonFields ? { fields: options.jsonFields.split(",") } : {}),
          ...(options.jq !== undefined ? { jq: options.jq } : {}),
          ...(options.ndjson ? { ndjson: true } : {}),
          terminal: io.isTty,
        }),
      );
    },
    credentials,
    async client() {
      const { keyId, issuerId, privateKey } = await credentials();
      return createAppStoreConnectClient({
        keyId,
        privateKey,
        ...(issuerId ? { issuerId } : {}),
        baseUrl: globals().baseUrl ?? defaultBaseUrl,
        userAgent: "asc-kit-cli",
      });
    },
  };
}

const privateKeyPathRole = {
  name: "ASC_PRIVATE_KEY_PATH (--private-key-path)",
  insteadOfKey: "Put the key's contents in ASC_PRIVATE_KEY, or give the path of the .p8 file here.",
};

/**
 * The API key from the options and the environment. A flag typed on the command line overrides
 * a variable of the other form (`--private-key-path` over `ASC_PRIVATE_KEY`, and back).
 */
async function readCredentials(program: Command): Promise<ApiCredentials> {
  const options = program.opts<GlobalOptions>();
  // Everything missing at once: one round trip to the shell, not one per variable.
  const missing = [
    ...(options.keyId ? [] : ["the API key ID (ASC_KEY_ID or --key-id)"]),
    ...(options.privateKey || options.privateKeyPath
      ? []
      : ["the API private key (ASC_PRIVATE_KEY or ASC_PRIVATE_KEY_PATH, or --private-key-path)"]),
  ];
  if (missing.length > 0) throw usageError(`Missing ${missing.join(" and ")}.`);
  const keyId = options.keyId!;
  const issuer = options.issuerId ? { issuerId: options.issuerId } : {};
  const inline = options.privateKey;
  const path = options.privateKeyPath;
  let source: "inline" | "path";
  if (inline && path) {
    const inlineTyped = program.getOptionValueSource("privateKey") === "cli";
    const pathTyped = program.getOptionValueSource("privateKeyPath") === "cli";
    if (inlineTyped === pathTyped) {
      throw usageError(
        "Give the private key once: ASC_PRIVATE_KEY (--private-key) or ASC_PRIVATE_KEY_PATH (--private-key-path), not both.",
      );
    }
    source = inlineTyped ? "inline" : "path";
  } else if (inline) source = "inline";
  else source = "path";
  const privateKey = source === "inline" ? inline! : await readText(path!, privateKeyPathRole);
  return { keyId, ...issuer, privateKey };
}
