import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { shippedFile } from "./format.js";

const run = promisify(execFile);
const bin = new URL("../dist/bin.js", import.meta.url).pathname;
/** Inside the package, so that the consumer resolves @asc-kit/core as an installed package. */
const scratch = await mkdtemp(new URL("../node_modules/.consumer-", import.meta.url).pathname);
afterAll(() => rm(scratch, { recursive: true, force: true }));

/**
 * Apple's description, as far as this journey needs it: asc-kit's own excerpt plus one paged
 * collection it does not cover (`GET /v1/apps`). Built here, so no test needs Apple's file.
 */
async function upstream(): Promise<string> {
  const document = parse(await readFile(shippedFile("app-store-connect.yaml"), "utf8")) as {
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  document.paths["/v1/apps"] = {
    get: {
      tags: ["Apps"],
      operationId: "apps_getCollection",
      parameters: [
        {
          name: "filter[bundleId]",
          in: "query",
          schema: { type: "array", items: { type: "string" } },
          style: "form",
          explode: false,
        },
        { name: "limit", in: "query", schema: { type: "integer", maximum: 200 }, style: "form" },
      ],
      responses: {
        "200": {
          description: "List of Apps",
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/AppsResponse" } },
          },
        },
        "400": {
          description: "Parameter error(s)",
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } },
          },
        },
      },
    },
  };
  document.paths["/v1/apps/{id}"] = {
    get: {
      tags: ["Apps"],
      operationId: "apps_getInstance",
      parameters: [
        { name: "id", in: "path", required: true, schema: { type: "string" }, style: "simple" },
      ],
      responses: {
        "200": {
          description: "Single App",
          content: { "application/json": { schema: { $ref: "#/components/schemas/AppResponse" } } },
        },
        "404": {
          description: "Not found error",
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } },
          },
        },
      },
    },
  };
  document.components.schemas.AppResponse = {
    type: "object",
    title: "AppResponse",
    properties: {
      data: { $ref: "#/components/schemas/App" },
      links: { $ref: "#/components/schemas/DocumentLinks" },
    },
    required: ["data", "links"],
  };
  document.components.schemas.App = {
    type: "object",
    title: "App",
    properties: {
      type: { type: "string", enum: ["apps"] },
      id: { type: "string" },
      attributes: { type: "object", properties: { bundleId: { type: "string" } } },
    },
    required: ["id", "type"],
  };
  document.components.schemas.AppsResponse = {
    type: "object",
    title: "AppsResponse",
    properties: {
      data: { type: "array", items: { $ref: "#/components/schemas/App" } },
      links: { $ref: "#/components/schemas/PagedDocumentLinks" },
      meta: { $ref: "#/components/schemas/PagingInformation" },
    },
    required: ["data", "links"],
  };
  return JSON.stringify(document);
}

const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");

/** The README's shell commands, as argument lists; `npx asc-kit-spec` is this package's bin. */
function readmeCommands(): string[][] {
  const block = /^```sh\n([\s\S]*?)^```/m.exec(readme)![1]!;
  return block
    .trim()
    .split("\n")
    .map((line) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!))
    .map((words) => (words[0] === "npx" && words[1] === "asc-kit-spec" ? words.slice(2) : words));
}

/** The README's typed call, checked here because it needs the consumer's generated paths. */
function readmeBlock(): string {
  return /^```ts consumer-project\n([\s\S]*?)^```/m.exec(readme)![1]!;
}

const consumerCode = `import { createAppStoreConnectClient, listAlternativeDistributionKeys, paginateItems } from "@asc-kit/core";
import type { paths } from "./src/asc-kit-paths.js";

// Two pages of apps, the second by a relative link, as a fake App Store Connect serves them.
const fetch = async (request: Request) => {
  const url = new URL(request.url);
  const second = url.searchParams.get("cursor") === "2";
  const body = url.pathname === "/v1/apps"
    ? { data: [{ type: "apps", id: second ? "app-2" : "app-1" }], links: { self: url.href, ...(second ? {} : { next: "/v1/apps?cursor=2&limit=1" }) } }
    : { data: [], links: { self: url.href } };
  return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
};

const client = createAppStoreConnectClient<paths>({ token: "a.b.c", baseUrl: "https://api.example.test", fetch });
const ids: string[] = [];
for await (const app of paginateItems(client, "/v1/apps", { params: { query: { limit: 1, "filter[bundleId]": ["com.example.app"] } } })) {
  ids.push(app.id);
}
const keys = await listAlternativeDistributionKeys(client);
// @ts-expect-error the body of a key is not an app
void client.POST("/v1/alternativeDistributionKeys", { body: { data: { type: "apps", id: "1" } } });
console.log(JSON.stringify({ ids, keys: keys.data?.length }));
`;

describe("an endpoint asc-kit does not cover yet, from a consumer project", () => {
  it("is one add, one generate, and a typed, paginated call", async () => {
    const upstreamFile = join(scratch, "openapi.oas.json"); // where the README unpacks it
    await writeFile(upstreamFile, await upstream());
    const command = (args: string[]) =>
      run(process.execPath, [bin, ...args], { cwd: scratch }).catch(
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    // The README's commands, as a reader runs them.
    const [setUp, add, generate, diff] = readmeCommands();
    expect(setUp).toEqual(["npm", "install", "--save-dev", "@asc-kit/spec"]);
    const added = await command(add!);
    expect(added.stdout).toMatch(
      /^Added apps_getCollection, GET \/v1\/apps\/\{id\} to asc-kit\.yaml \(started from asc-kit's own excerpt\)\. Next: asc-kit-spec generate\./,
    );
    const excerpt = parse(await readFile(join(scratch, "asc-kit.yaml"), "utf8")) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(excerpt.paths)).toEqual(
      expect.arrayContaining(["/v1/apps", "/v1/alternativeDistributionKeys"]),
    );
    const wrongName = await command(["add", "--from", upstreamFile, "app_getCollection"]);
    expect(wrongName).toMatchObject({ code: 1 });
    expect((wrongName as { stderr: string }).stderr).toMatch(/Closest: apps_getCollection/);

    expect((await command(generate!)).stdout).toMatch(/^Wrote src\/asc-kit-paths\.ts/);
    expect((await command(["generate", "--check"])).stdout).toMatch(/is up to date/);
    const generated = await readFile(join(scratch, "src/asc-kit-paths.ts"), "utf8");
    expect(generated).toMatch(/Generated by `asc-kit-spec generate` from asc-kit\.yaml/);
    expect((await command(diff!)).stdout).toMatch(/in sync: /);

    await writeFile(join(scratch, "package.json"), '{ "type": "module" }\n');
    await writeFile(join(scratch, "consumer.ts"), consumerCode);
    await writeFile(join(scratch, "readme.ts"), `${readmeBlock()}\nexport {};\n`);
    const options: ts.CompilerOptions = {
      strict: true,
      exactOptionalPropertyTypes: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
      types: [],
      skipLibCheck: true,
      outDir: join(scratch, "out"),
    };
    const program = ts.createProgram([join(scratch, "consumer.ts"), join(scratch, "readme.ts")], {
      ...options,
      types: ["node"],
      typeRoots: [new URL("../node_modules/@types", import.meta.url).pathname],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
    expect(problems).toEqual([]);
    program.emit();
    const ran = await run(process.execPath, [join(scratch, "out/consumer.js")], { cwd: scratch });
    expect(JSON.parse(ran.stdout)).toEqual({ ids: ["app-1", "app-2"], keys: 0 });
  });
});
