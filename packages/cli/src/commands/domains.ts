import {
  addAlternativeDistributionDomain,
  getAlternativeDistributionDomain,
  listAlternativeDistributionDomains,
  normalizeDomainName,
  removeAlternativeDistributionDomain,
} from "@asc-kit/core";
import type { AlternativeDistributionDomain, AppStoreConnectClient } from "@asc-kit/core";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { CliError } from "../report.js";
import { table } from "../output.js";
import { confirm, unwrap } from "./shared.js";

const columns = ["ID", "DOMAIN", "NAME", "CREATED"];

/** `asc-kit domains …`: web distribution domains. */
export function registerDomains(program: Command, context: Context): void {
  const { io, out } = context;
  const domains = program.command("domains").description("manage web distribution domains");

  domains
    .command("add")
    .description("register a web domain for alternative distribution")
    .argument("<domain>", "host name, such as downloads.example.com")
    .requiredOption("--name <referenceName>", "a reference name for the domain")
    .action(async (domain: string, options: { name: string }) => {
      const created = unwrap(
        await addAlternativeDistributionDomain(await context.client(), {
          domain,
          referenceName: options.name,
        }),
      ).data;
      await out(`Added domain ${created.attributes?.domain ?? domain} (${created.id}).\n`, created);
    });

  domains
    .command("list")
    .description("list the registered domains")
    .action(async () => {
      const list = unwrap(await listAlternativeDistributionDomains(await context.client()));
      await out(list.length === 0 ? "No domains.\n" : table(columns, list.map(domainRow)), list);
    });

  domains
    .command("get")
    .description("show one domain, by id or by host name")
    .argument("<id-or-domain>")
    .action(async (idOrName: string) => {
      const domain = await findDomain(await context.client(), idOrName);
      await out(table(columns, [domainRow(domain)]), domain);
    });

  domains
    .command("remove")
    .description("remove a domain, by id or by host name")
    .argument("<id-or-domain>")
    .option("--yes", "do not ask for confirmation")
    .action(async (idOrName: string, options: { yes?: boolean }) => {
      const client = await context.client();
      const id = hostNameOf(idOrName) ? (await findDomain(client, idOrName)).id : idOrName;
      const named = id === idOrName ? id : `${idOrName} (${id})`;
      await confirm(io, options.yes, `Remove domain ${named}? [y/N] `);
      unwrap(await removeAlternativeDistributionDomain(client, id));
      await out(`Removed domain ${named}.\n`, { removed: id });
    });
}

/** The normalized host name when the argument is one (ids have no dots), else undefined. */
function hostNameOf(value: string): string | undefined {
  if (!value.includes(".")) return undefined;
  try {
    return normalizeDomainName(value);
  } catch {
    return undefined;
  }
}

/** A domain by id, or by host name through the list (Apple has no lookup by name). */
async function findDomain(
  client: AppStoreConnectClient,
  idOrName: string,
): Promise<AlternativeDistributionDomain> {
  const name = hostNameOf(idOrName);
  if (!name) return unwrap(await getAlternativeDistributionDomain(client, idOrName)).data;
  const found = unwrap(await listAlternativeDistributionDomains(client)).find(
    (domain) => domain.attributes?.domain?.toLowerCase() === name,
  );
  if (found) return found;
  throw new CliError(
    `No registered domain is named ${name}.`,
    ExitCode.notFound,
    "NOT_FOUND",
    "'asc-kit domains list' shows the registered domains and their ids.",
  );
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
