import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { buildCatalog } from "@asc-kit/distribution";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { usageError } from "../report.js";
import { openPostgresStore } from "@asc-kit/distribution/postgres";
import { openDatabase } from "./marketplace.js";

interface CatalogOptions {
  out: string;
  url: string;
  data?: string;
  databaseUrl?: string;
}

/** `asc-kit catalog build`: the search catalog Applebot crawls, as files. */
export function registerCatalog(program: Command, context: Context): void {
  const catalog = program
    .command("catalog")
    .description("the search catalog of a marketplace: what catalogUrl points at");

  catalog
    .command("build")
    .description(
      "write sitemap.xml and a page per served app (JSON-LD MobileApplication) from the registered versions",
    )
    .requiredOption("--out <dir>", "the folder to write the catalog to")
    .requiredOption(
      "--url <url>",
      "the https URL the folder is served at: sitemap.xml there is the catalogUrl to register",
    )
    .option("--database-url <url>", "the versions are in PostgreSQL")
    .option(
      "--data <dir>",
      "the embedded store's folder (asc-kit serve --data, or marketplace run --data)",
    )
    .action(async (options: CatalogOptions) => {
      if ((options.data === undefined) === (options.databaseUrl === undefined)) {
        throw usageError("Give --database-url or --data: where the registered versions are.");
      }
      // The folder of `serve --data` or `marketplace run --data`, that one running or not.
      const database = await openDatabase(options, "", false);
      const url = typeof database.target === "string" ? database.target : database.target.url;
      const store = await openPostgresStore(url, { maxConnections: 1 }).catch(async (error) => {
        await database.close();
        throw error;
      });
      try {
        const files = await buildCatalog(store, {
          url: options.url,
          htmlExtension: true,
        }).catch((error: unknown) => {
          throw error instanceof TypeError ? usageError(`--url: ${error.message}`) : error;
        });
        for (const [name, file] of files) {
          const path = join(options.out, ...name.split("/"));
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, file.body);
        }
        const written = [...files.keys()];
        await context.out(
          `Wrote ${written.length} files to ${options.out}: ${written.join(", ")}\n`,
          {
            out: options.out,
            catalogUrl: new URL(
              "sitemap.xml",
              options.url.endsWith("/") ? options.url : `${options.url}/`,
            ).href,
            files: written,
          },
        );
      } finally {
        await store.close();
        await database.close();
      }
    });
}
