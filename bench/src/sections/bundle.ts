import {
  coreBundleBudget,
  measureBundle,
  minimalCoreConsumer,
} from "../../../scripts/lib/bundle-size.ts";
import type { BundleSize } from "../../../scripts/lib/bundle-size.ts";
import { kb, times } from "../context.ts";
import type { Section } from "../context.ts";
import { peersDir } from "../peers.ts";

type Sizes = Record<string, BundleSize>;

/** Why each part of asc-kit's bundle is there. */
const reasons: Record<string, string> = {
  "@asc-kit/core":
    "the client around openapi-fetch: token reuse and refresh, retries that never repeat a mutation, timeouts that bound the body, size caps, redirects refused, rate limits",
  "@asc-kit/pem":
    "the linear-time PEM reader that takes every key shape users paste (PKCS#8, SEC1, single-line, escaped), with its DER checks",
  jose: "ES256 signing and PKCS#8 import (kept: a well-kept library for the one cryptographic step)",
  "@asc-kit/errors": "the error model: kinds, codes, hints for known causes, secrets scrubbed",
  "openapi-fetch": "the typed fetch itself",
};

/** A minimal consumer of each client (create it, make one call), bundled for Node. */
const minimalConsumers = (workDir: string): Record<string, { dir: string; source: string }> => ({
  "asc-kit": { dir: workDir, source: minimalCoreConsumer },
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

export const bundle: Section<Sizes> = {
  name: "bundle",
  async measure(context) {
    const sizes: Sizes = {};
    for (const [name, consumer] of Object.entries(minimalConsumers(context.workDir))) {
      sizes[name] = await measureBundle(consumer.dir, name, consumer.source);
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
      `Target: asc-kit at most 10 kB gzipped: not met. \`pnpm test\` holds the bundle under its budget (${coreBundleBudget.gzippedBytes} bytes gzipped, \`scripts/lib/bundle-size.ts\`), so it cannot grow unnoticed. What asc-kit's bundle holds, minified, package by package:`,
      "",
      "| package | minified | share | what it is for |",
      "| --- | ---: | ---: | --- |",
      ...sizes["asc-kit"]!.byPackage.map(
        ([name, bytes]) =>
          `| ${name} | ${kb(bytes)} | ${Math.round((100 * bytes) / sizes["asc-kit"]!.minifiedBytes)}% | ${reasons[name] ?? ""} |`,
      ),
      "",
    ];
  },
};
