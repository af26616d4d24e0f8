import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { parse } from "yaml";

const run = promisify(execFile);

/**
 * Apple's description, as far as this journey needs it: asc-kit's own excerpt plus one paged
 * collection it does not cover (`GET /v1/apps`). Built here, so no test needs Apple's file.
 */
export function upstreamWithApps(excerptText: string): string {
  const document = parse(excerptText) as {
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

/** The README's shell commands, as argument lists; `npx asc-kit-spec` is this package's bin. */
export function readmeCommands(readme: string): string[][] {
  const block = /^```sh\n([\s\S]*?)^```/m.exec(readme)![1]!;
  return block
    .trim()
    .split("\n")
    .map((line) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!))
    .map((words) => (words[0] === "npx" && words[1] === "asc-kit-spec" ? words.slice(2) : words));
}

/** The README's typed call, checked here because it needs the consumer's generated paths. */
export function readmeBlock(readme: string): string {
  return /^```ts consumer-project\n([\s\S]*?)^```/m.exec(readme)![1]!;
}

export const consumerCode = `import { createAppStoreConnectClient, listAlternativeDistributionKeys, paginateItems } from "@asc-kit/core";
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

/** What a consumer's journey came to, for a test to assert or a rehearsal to report. */
export interface Journey {
  /** Each README command with what it printed and its exit code. */
  commands: Array<{ args: string[]; code: number; stdout: string; stderr: string }>;
  /** The excerpt's paths after `add`. */
  paths: string[];
  /** Type errors of the consumer's code and the README's block. */
  problems: string[];
  /** What the consumer's code printed. */
  output: unknown;
}

/**
 * The journey of the README in a consumer project `dir`, where `@asc-kit/*` resolve: Apple's
 * description (here built from `excerptText`), the README's commands through `specBin`, then the
 * README's code and a paginating consumer, type-checked strictly and run.
 */
export async function runJourney(options: {
  dir: string;
  specBin: string;
  readme: string;
  excerptText: string;
  typeRoots: string[];
}): Promise<Journey> {
  const { dir } = options;
  await writeFile(join(dir, "openapi.oas.json"), upstreamWithApps(options.excerptText));
  const commands: Journey["commands"] = [];
  for (const words of readmeCommands(options.readme)) {
    if (words[0] === "npm") continue;
    const args = words;
    const ran = await run(process.execPath, [options.specBin, ...args], { cwd: dir }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    commands.push({ args, code: ran.code, stdout: ran.stdout, stderr: ran.stderr });
  }
  const excerpt = parse(await readFile(join(dir, "asc-kit.yaml"), "utf8")) as {
    paths: Record<string, unknown>;
  };
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  await writeFile(join(dir, "consumer.ts"), consumerCode);
  await writeFile(join(dir, "readme.ts"), `${readmeBlock(options.readme)}\nexport {};\n`);
  const program = ts.createProgram([join(dir, "consumer.ts"), join(dir, "readme.ts")], {
    strict: true,
    exactOptionalPropertyTypes: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: ["node"],
    typeRoots: options.typeRoots,
    skipLibCheck: true,
    outDir: join(dir, "out"),
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
  program.emit();
  const ran = await run(process.execPath, [join(dir, "out/consumer.js")], { cwd: dir }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: "", stderr: error.stderr ?? "" }),
  );
  let output: unknown;
  try {
    output = JSON.parse(ran.stdout);
  } catch {
    output = ran.stderr || ran.stdout;
  }
  return { commands, paths: Object.keys(excerpt.paths), problems, output };
}
