import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileLabel, run, times } from "../context.ts";
import type { Section } from "../context.ts";
import { peersDir } from "../peers.ts";

type Costs = Record<string, Record<string, number>>;

const sdk = "appstore-connect-sdk@2.0.0";
const rage = "@rage-against-the-pixel/app-store-connect-api@4.4.1";

/** The same four calls (list, get, create, delete) in each client's style. */
const fourCalls = (workDir: string): Record<string, { dir: string; source: string }> => ({
  "asc-kit": {
    dir: workDir,
    source: `import { createAppStoreConnectClient } from "@asc-kit/core";
const client = createAppStoreConnectClient({ keyId: "K", issuerId: "I", privateKey: "P" });
const list = await client.GET("/v1/alternativeDistributionKeys", { params: { query: { limit: 10 } } });
const one = await client.GET("/v1/alternativeDistributionKeys/{id}", { params: { path: { id: "x" } } });
const created = await client.POST("/v1/alternativeDistributionKeys", { body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "p" } } } });
await client.DELETE("/v1/alternativeDistributionKeys/{id}", { params: { path: { id: created.data?.data.id ?? "" } } });
export const ids = [list.data?.data[0]?.id, one.data?.data.id];`,
  },
  [sdk]: {
    dir: peersDir,
    source: `import { createClient, alternativeDistributionKeysGetCollection, alternativeDistributionKeysGetInstance, alternativeDistributionKeysCreateInstance, alternativeDistributionKeysDeleteInstance } from "appstore-connect-sdk";
const client = createClient({ issuerId: "I", privateKeyId: "K", privateKey: "P" });
const list = await alternativeDistributionKeysGetCollection({ client, query: { limit: 10 } });
const one = await alternativeDistributionKeysGetInstance({ client, path: { id: "x" } });
const created = await alternativeDistributionKeysCreateInstance({ client, body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "p" } } } });
await alternativeDistributionKeysDeleteInstance({ client, path: { id: created.data?.data.id ?? "" } });
export const ids = [list.data?.data[0]?.id, one.data?.data.id];`,
  },
  [rage]: {
    dir: peersDir,
    source: `import { AppStoreConnectClient } from "@rage-against-the-pixel/app-store-connect-api";
const { api } = new AppStoreConnectClient({ issuerId: "I", privateKeyId: "K", privateKey: "P" });
const list = await api.AlternativeDistributionKeys.alternativeDistributionKeysGetCollection({ query: { limit: 10 } });
const one = await api.AlternativeDistributionKeys.alternativeDistributionKeysGetInstance({ path: { id: "x" } });
const created = await api.AlternativeDistributionKeys.alternativeDistributionKeysCreateInstance({ body: { data: { type: "alternativeDistributionKeys", attributes: { publicKey: "p" } } } });
await api.AlternativeDistributionKeys.alternativeDistributionKeysDeleteInstance({ path: { id: created.data?.data.id ?? "" } });
export const ids = [list.data?.data[0]?.id, one.data?.data.id];`,
  },
});

/** What `tsc --noEmit --extendedDiagnostics` reports for each consumer. */
export const typecheck: Section<Costs> = {
  name: "typecheck",
  async measure(context) {
    const costs: Costs = {};
    const tsc = join(context.repoRoot, "node_modules/typescript/bin/tsc");
    for (const [name, consumer] of Object.entries(fourCalls(context.workDir))) {
      const dir = join(consumer.dir, `typecheck-${fileLabel(name)}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "calls.ts"), consumer.source);
      await writeFile(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            lib: ["ES2023", "DOM"],
            types: [],
          },
          files: ["calls.ts"],
        }),
      );
      await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const { stdout } = await run(process.execPath, [
        tsc,
        "-p",
        dir,
        "--extendedDiagnostics",
      ]).catch((error: { stdout: string }) => error);
      const read = (label: string) =>
        Number(new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(stdout)?.[1] ?? Number.NaN);
      costs[name] = {
        types: read("Types"),
        instantiations: read("Instantiations"),
        memoryKiB: read("Memory used"),
        checkSeconds: read("Check time"),
        totalSeconds: read("Total time"),
      };
    }
    context.log("type-check costs measured");
    return costs;
  },
  render(costs) {
    return [
      "## Consumer type-check cost (the same four calls: list, get, create, delete; `tsc --noEmit --extendedDiagnostics`)",
      "",
      "| client | types | instantiations | memory | check time | total time | total vs asc-kit |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...Object.entries(costs).map(
        ([name, cost]) =>
          `| ${name} | ${cost.types} | ${cost.instantiations} | ${((cost.memoryKiB ?? 0) / 1024).toFixed(0)} MB | ${cost.checkSeconds} s | ${cost.totalSeconds} s | ${times(cost.totalSeconds!, costs["asc-kit"]!.totalSeconds!)} |`,
      ),
      "",
    ];
  },
};
