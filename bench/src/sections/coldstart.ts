import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileLabel, median, rotated, run, spread, times } from "../context.ts";
import type { Section } from "../context.ts";
import { peersDir } from "../peers.ts";
import { startListServer } from "../server.ts";

const issuer = "57246542-96fe-1a63-e053-0824d011072a";

/**
 * A fresh process that imports the client, creates it and makes its first call. "by hand" does
 * the same work without a client (import jose, sign one token, one raw fetch): the figure
 * asc-kit is held to, since what lies above it is what asc-kit adds.
 */
const scripts = (workDir: string): Record<string, { dir: string; source: string }> => ({
  "node alone": { dir: workDir, source: "" },
  "by hand (jose + fetch)": {
    dir: workDir,
    source: `import { importPKCS8, SignJWT } from "jose";
const key = await importPKCS8(process.env.KEY, "ES256");
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ iss: "${issuer}", iat: now, exp: now + 1200, aud: "appstoreconnect-v1" })
  .setProtectedHeader({ alg: "ES256", kid: "K", typ: "JWT" })
  .sign(key);
const response = await fetch(process.env.URL + "/v1/alternativeDistributionKeys", { headers: { Authorization: "Bearer " + token } });
await response.json();`,
  },
  "asc-kit": {
    dir: workDir,
    source: `import { createAppStoreConnectClient } from "@asc-kit/core";
const client = createAppStoreConnectClient({ keyId: "K", issuerId: "${issuer}", privateKey: process.env.KEY, baseUrl: process.env.URL });
await client.GET("/v1/alternativeDistributionKeys");`,
  },
  "appstore-connect-sdk@2.0.0": {
    dir: peersDir,
    source: `import { createClient, alternativeDistributionKeysGetCollection } from "appstore-connect-sdk";
const client = createClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY, baseUrl: process.env.URL });
await alternativeDistributionKeysGetCollection({ client });`,
  },
  "@rage-against-the-pixel/app-store-connect-api@4.4.1": {
    dir: peersDir,
    source: `import { AppStoreConnectClient } from "@rage-against-the-pixel/app-store-connect-api";
import generated from "@rage-against-the-pixel/app-store-connect-api/dist/app_store_connect_api/client.gen.js";
const client = new AppStoreConnectClient({ issuerId: "I", privateKeyId: "K", privateKey: process.env.KEY });
generated.client.setConfig({ baseUrl: process.env.URL });
await client.api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({});`,
  },
});

export const coldStart: Section<Record<string, number[]>> = {
  name: "coldstart",
  async measure(context) {
    const server = await startListServer();
    const files = new Map<string, string>();
    for (const [name, script] of Object.entries(scripts(context.workDir))) {
      const file = join(script.dir, `cold-${fileLabel(name)}.mjs`);
      await writeFile(file, script.source);
      files.set(name, file);
    }
    const durations: Record<string, number[]> = {};
    for (let round = 0; round < Math.max(7, context.rounds); round++) {
      for (const [name, file] of rotated([...files], round)) {
        const start = performance.now();
        await run(process.execPath, [file], {
          env: { ...process.env, KEY: context.privateKeyPem, URL: server.url },
        });
        (durations[name] ??= []).push(performance.now() - start);
      }
    }
    for (const file of files.values()) await rm(file);
    await server.close();
    context.log("cold starts measured");
    return durations;
  },
  render(durations) {
    const of = (name: string) => median(durations[name]!);
    return [
      "## Cold start (a fresh process imports the client, creates it, makes its first call to a loopback server; median of rounds, scripts alternating)",
      "",
      "| script | wall time | spread of rounds | vs by hand | vs asc-kit |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...Object.keys(durations).map(
        (name) =>
          `| ${name} | ${Math.round(of(name))} ms | ${spread(durations[name]!)} | ${times(of(name), of("by hand (jose + fetch)"))} | ${times(of(name), of("asc-kit"))} |`,
      ),
      "",
      "Target: asc-kit within 1.15× of by hand, the same work (import jose, sign a token, one fetch) without a client.",
      "",
    ];
  },
};
