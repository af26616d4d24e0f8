import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { fileLabel, kb, times } from "../context.ts";
import type { Section } from "../context.ts";
import { peersDir } from "../peers.ts";

type Sizes = Record<string, { minifiedBytes: number; gzippedBytes: number }>;

/** A minimal consumer of each client (create it, make one call), bundled for Node. */
export const minimalConsumers = (
  workDir: string,
): Record<string, { dir: string; source: string }> => ({
  "asc-kit": {
    dir: workDir,
    source: `import { createAppStoreConnectClient } from "@asc-kit/core";
const client = createAppStoreConnectClient({ keyId: "K", issuerId: "I", privateKey: process.env.KEY });
console.log(await client.GET("/v1/alternativeDistributionKeys"));`,
  },
  "openapi-fetch alone": {
    dir: workDir,
    source: `import createClient from "openapi-fetch";
const client = createClient({ baseUrl: "https://api.appstoreconnect.apple.com", headers: { Authorization: "Bearer " + process.env.TOKEN } });
console.log(await client.GET("/v1/alternativeDistributionKeys"));`,
  },
  "appstore-connect-sdk@2.0.0": {
    dir: peersDir,
    source: `import { createClient, alternativeDistributionKeysGetCollection } from "appstore-connect-sdk";
const client = createClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY });
console.log(await alternativeDistributionKeysGetCollection({ client }));`,
  },
  "@rage-against-the-pixel/app-store-connect-api@4.4.1": {
    dir: peersDir,
    source: `import { AppStoreConnectClient } from "@rage-against-the-pixel/app-store-connect-api";
const client = new AppStoreConnectClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY });
console.log(await client.api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({}));`,
  },
});

/** Minified and gzip -9 bytes of `source` bundled from `dir`, and esbuild's metafile. */
export async function bundled(dir: string, name: string, source: string) {
  const entry = join(dir, `bundle-${fileLabel(name)}.mjs`);
  await writeFile(entry, source);
  try {
    const output = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "node",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const code = output.outputFiles[0]!.contents;
    return {
      minifiedBytes: code.length,
      gzippedBytes: gzipSync(code, { level: 9 }).length,
      metafile: output.metafile,
    };
  } finally {
    await rm(entry);
  }
}

export const bundle: Section<Sizes> = {
  name: "bundle",
  async measure(context) {
    const sizes: Sizes = {};
    for (const [name, consumer] of Object.entries(minimalConsumers(context.workDir))) {
      const { minifiedBytes, gzippedBytes } = await bundled(consumer.dir, name, consumer.source);
      sizes[name] = { minifiedBytes, gzippedBytes };
    }
    context.log("bundles measured");
    return sizes;
  },
  render(sizes) {
    return [
      "## Bundle size of a minimal consumer (create a client, make one call; esbuild, minified, gzip -9)",
      "",
      "| client | minified | gzipped | gzipped vs asc-kit |",
      "| --- | ---: | ---: | ---: |",
      ...Object.entries(sizes).map(
        ([name, size]) =>
          `| ${name} | ${kb(size.minifiedBytes)} | ${kb(size.gzippedBytes)} | ${times(size.gzippedBytes, sizes["asc-kit"]!.gzippedBytes)} |`,
      ),
      "",
      "Target: asc-kit at most 10 kB gzipped (`pnpm size` holds it in CI).",
      "",
    ];
  },
};
