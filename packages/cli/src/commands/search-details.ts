import {
  createMarketplaceSearchDetail,
  getAppMarketplaceSearchDetail,
  removeMarketplaceSearchDetail,
  updateMarketplaceSearchDetail,
} from "@asc-kit/core";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { table } from "../output.js";
import { confirm, unwrap } from "./shared.js";

/** `asc-kit search-details …`: a marketplace app's catalog, which Applebot crawls for Spotlight. */
export function registerSearchDetails(program: Command, context: Context): void {
  const { io, out } = context;
  const details = program
    .command("search-details")
    .description(
      "manage a marketplace app's search details: the catalog Apple crawls for Spotlight",
    );
  const show = (detail: { id: string; attributes?: { catalogUrl?: string } }) =>
    table(["ID", "CATALOG URL"], [[detail.id, detail.attributes?.catalogUrl ?? ""]]);

  details
    .command("create")
    .description("register the catalog (the root sitemap) of a marketplace app")
    .requiredOption("--app <appId>", "the marketplace app")
    .requiredOption("--catalog-url <url>", "https, on your registered distribution domain")
    .action(async (options: { app: string; catalogUrl: string }) => {
      const created = unwrap(
        await createMarketplaceSearchDetail(await context.client(), {
          appId: options.app,
          catalogUrl: options.catalogUrl,
        }),
      ).data;
      await out(`Registered the catalog of app ${options.app} (${created.id}).\n`, created);
    });

  details
    .command("get")
    .description("show a marketplace app's search details")
    .requiredOption("--app <appId>", "the marketplace app")
    .action(async (options: { app: string }) => {
      const detail = unwrap(
        await getAppMarketplaceSearchDetail(await context.client(), options.app),
      ).data;
      await out(show(detail), detail);
    });

  details
    .command("update")
    .description("change the catalog URL")
    .argument("<id>")
    .requiredOption("--catalog-url <url>", "the new catalog URL")
    .action(async (id: string, options: { catalogUrl: string }) => {
      const updated = unwrap(
        await updateMarketplaceSearchDetail(await context.client(), id, options.catalogUrl),
      ).data;
      await out(show(updated), updated);
    });

  details
    .command("remove")
    .alias("delete")
    .description("remove the search details")
    .argument("<id>")
    .option("--yes", "do not ask for confirmation")
    .action(async (id: string, options: { yes?: boolean }) => {
      await confirm(io, options.yes, `Remove search details ${id}? [y/N] `);
      unwrap(await removeMarketplaceSearchDetail(await context.client(), id));
      await out(`Removed search details ${id}.\n`, { removed: id });
    });
}
