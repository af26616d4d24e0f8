import {
  createAlternativeDistributionPackage,
  getAlternativeDistributionPackage,
  getAlternativeDistributionPackageVersion,
  getAppStoreVersionAlternativeDistributionPackage,
  listAlternativeDistributionPackageVersions,
} from "@asc-kit/core";
import type { AlternativeDistributionPackageVersion, components } from "@asc-kit/core";
import { downloadPackageVersion, validatePackageLayout } from "@asc-kit/download";
import { Option } from "commander";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { table } from "../output.js";
import { progressBars } from "../progress.js";
import { ExitCode } from "../exit-codes.js";
import { Exit, usageError } from "../report.js";
import { unwrap } from "./shared.js";

type Checksums = components["schemas"]["Checksums"];

/** `asc-kit packages …`: alternative distribution packages. */
export function registerPackages(program: Command, context: Context): void {
  const { out } = context;
  const packages = program
    .command("packages")
    .description("alternative distribution packages of approved App Store versions");

  packages
    .command("create")
    .description("create the package of an approved App Store version")
    .requiredOption("--app-store-version <id>", "the App Store version's id")
    .action(async (options: { appStoreVersion: string }) => {
      const created = unwrap(
        await createAlternativeDistributionPackage(await context.client(), {
          appStoreVersionId: options.appStoreVersion,
        }),
      ).data;
      await out(
        `Created package ${created.id} for App Store version ${options.appStoreVersion}.\n`,
        created,
      );
    });

  packages
    .command("get")
    .description("show a package, by id or by its App Store version")
    .argument("[id]", "the package's id")
    .option("--app-store-version <id>", "instead: the App Store version whose package to show")
    .action(async (id: string | undefined, options: { appStoreVersion?: string }) => {
      if ((id === undefined) === (options.appStoreVersion === undefined)) {
        throw usageError("Give a package id, or --app-store-version <id>: one of the two.");
      }
      const client = await context.client();
      const found = options.appStoreVersion
        ? await getAppStoreVersionAlternativeDistributionPackage(client, options.appStoreVersion)
        : await getAlternativeDistributionPackage(client, id!);
      const item = unwrap(found).data;
      await out(
        `id:                 ${item.id}\nsourceFileChecksum: ${describeChecksums(item.attributes?.sourceFileChecksum)}\n`,
        item,
      );
    });

  packages
    .command("versions")
    .description("list a package's versions (the COMPLETED one by default)")
    .argument("<packageId>")
    .addOption(
      new Option("--state <state>", "which versions")
        .choices(["COMPLETED", "REPLACED", "any"])
        .default("COMPLETED"),
    )
    .action(async (packageId: string, options: { state: "COMPLETED" | "REPLACED" | "any" }) => {
      const list = unwrap(
        await listAlternativeDistributionPackageVersions(await context.client(), packageId, {
          state: options.state,
        }),
      );
      await out(
        list.length === 0
          ? "No versions.\n"
          : table(["ID", "VERSION", "STATE", "URL EXPIRES"], list.map(versionRow)),
        list,
      );
    });

  registerDownload(packages, context);

  packages
    .command("version")
    .description("show a package version with every variant and delta, and their URLs")
    .argument("<versionId>")
    .action(async (versionId: string) => {
      const contents = unwrap(
        await getAlternativeDistributionPackageVersion(await context.client(), versionId),
      );
      const rows = [
        ...contents.variants.map((variant) => ["variant", variant.id, expiry(variant)]),
        ...contents.deltas.map((delta) => ["delta", delta.id, expiry(delta)]),
      ];
      await out(
        `${table(["ID", "VERSION", "STATE", "URL EXPIRES"], [versionRow(contents.version)])}\n${
          rows.length === 0
            ? "No variants or deltas yet.\n"
            : table(["KIND", "ID", "URL EXPIRES"], rows)
        }`,
        contents,
      );
    });
}

/** `asc-kit packages download`, registered with the other package commands. */
function registerDownload(packages: Command, context: Context): void {
  packages
    .command("validate")
    .description(
      "check a package layout as Apple's dist_package_tool validate does, on any platform (every chunk verified)",
    )
    .argument("<dir>")
    .action(async (dir: string) => {
      const report = await validatePackageLayout(dir);
      const { colors } = context;
      const human = report.ok
        ? `${colors.green("valid")}: ${report.bundleId} (${report.appleItemId}, version ${report.appleVersionId}): ${report.assets} assets, ${report.bytes} bytes, every chunk verified, nothing else in ${dir}\n`
        : table(
            ["CODE", "PATH", "WHAT"],
            report.findings.map((finding) => [finding.code, finding.path ?? "", finding.message]),
          );
      await context.out(human, report);
      if (!report.ok) throw new Exit(ExitCode.localValidation);
    });

  packages
    .command("download")
    .description(
      "download a package version, verify every chunk, and lay it out to serve (resumes; a second run fetches only what is new)",
    )
    .argument("<versionId>")
    .requiredOption("--out <dir>", "the folder to lay the package out in (what your domain serves)")
    .option(
      "--key-blobs <file>",
      "where the key blobs go (mode 0600); default <dir>.key-blobs.json",
    )
    .action(async (versionId: string, options: { out: string; keyBlobs?: string }) => {
      const { io, colors } = context;
      // Bars on a terminal only: --json, a pipe or a CI log gets the result alone.
      const progress =
        (io.stderrIsTty ?? io.isTty) && !context.globals().json
          ? progressBars(io.stderr)
          : undefined;
      const result = await downloadPackageVersion(await context.client(), versionId, {
        out: options.out,
        ...(options.keyBlobs ? { keyBlobs: options.keyBlobs } : {}),
        ...(progress ? { onProgress: progress.update } : {}),
      });
      progress?.finish();
      const rows = result.assets.map((asset) => [
        asset.assetPath,
        String(asset.bytes),
        asset.downloaded
          ? asset.resumedFrom === undefined
            ? "downloaded"
            : `resumed at ${asset.resumedFrom}`
          : "already there",
      ]);
      await context.out(
        `${colors.green("verified")}: ${result.bundleId} (${result.appleItemId}) in ${result.out}\n${table(["ASSET", "BYTES", "STATUS"], rows)}key blobs: ${result.keyBlobs} (secret: keep it out of what you serve)\nServe ${result.out} as it is: manifest.json, signature, variant/ and delta/ under one base URL on your distribution domain.\n`,
        result,
      );
    });
}

function versionRow(version: AlternativeDistributionPackageVersion): string[] {
  return [
    version.id,
    version.attributes?.version ?? "",
    version.attributes?.state ?? "",
    expiry(version),
  ];
}

function expiry(item: { attributes?: { urlExpirationDate?: string } }): string {
  return item.attributes?.urlExpirationDate ?? "";
}

/**
 * A package's `sourceFileChecksum` as Apple gives it: the `file` branch, or else the
 * `composite` one, named as such (which of the two Apple fills is undocumented).
 */
export function describeChecksums(checksums: Checksums | undefined): string {
  const shown = (part: { hash?: string; algorithm?: string }) =>
    `${part.algorithm ?? "?"} ${part.hash ?? "?"}`;
  if (checksums?.file) return shown(checksums.file);
  if (checksums?.composite) return `${shown(checksums.composite)} (composite)`;
  return "none";
}
