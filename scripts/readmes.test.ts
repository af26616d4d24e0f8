import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Every `ts` block of every README, type-checked as a consumer's module would be: strict,
 * exactOptionalPropertyTypes, nodenext, against the packages' built declarations. A block
 * marked `ts consumer-project` needs a consumer's generated paths: the spec package's consumer
 * test checks it, in such a project.
 */
const root = new URL("..", import.meta.url).pathname;

/** What an example may take as given without declaring it: the things its prose names. */
const givens = `
declare const client: import("@asc-kit/core").AppStoreConnectClient;
declare const publicKey: string;
declare const publicKeyPem: string;
declare const token: string;
declare const request: Request;
`;

interface Block {
  readme: string;
  line: number;
  code: string;
}

async function readmes(): Promise<string[]> {
  const packages = await readdir(join(root, "packages"));
  const found = ["README.md", ...packages.map((name) => join("packages", name, "README.md"))];
  const present: string[] = [];
  for (const path of found) {
    if (
      await readFile(join(root, path), "utf8").then(
        () => true,
        () => false,
      )
    )
      present.push(path);
  }
  return present;
}

async function tsBlocks(): Promise<Block[]> {
  const blocks: Block[] = [];
  for (const readme of await readmes()) {
    const lines = (await readFile(join(root, readme), "utf8")).split("\n");
    let start: number | undefined;
    for (const [index, line] of lines.entries()) {
      if (start === undefined && /^```(ts|typescript)\s*$/.test(line)) start = index + 1;
      else if (start !== undefined && line.startsWith("```")) {
        blocks.push({ readme, line: start + 1, code: lines.slice(start, index).join("\n") });
        start = undefined;
      }
    }
  }
  return blocks;
}

/** `name` and `name/*` for each optional peer of a package, where that package has it. */
async function peersOf(packages: string[]): Promise<Record<string, string[]>> {
  const paths: Record<string, string[]> = {};
  for (const name of packages) {
    const manifest = JSON.parse(
      await readFile(join(root, "packages", name, "package.json"), "utf8"),
    ) as { peerDependencies?: Record<string, string> };
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
      const where = join(root, "packages", name, "node_modules", peer);
      const { exports = {} } = JSON.parse(await readFile(join(where, "package.json"), "utf8")) as {
        exports?: Record<string, unknown>;
      };
      for (const [subpath, conditions] of Object.entries(exports)) {
        const types = typesOf(conditions);
        if (types) paths[`${peer}${subpath.slice(1)}`] = [join(where, types)];
      }
    }
  }
  return paths;
}

/** The types an ESM import of an `exports` entry resolves to. */
function typesOf(conditions: unknown): string | undefined {
  if (typeof conditions !== "object" || conditions === null) return undefined;
  const entry = conditions as Record<string, unknown>;
  if (typeof entry.types === "string") return entry.types;
  return typesOf(entry.import) ?? typesOf(entry.default);
}

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe("README code", () => {
  // One type-check of every block together: some 3 s alone, more on a busy machine.
  it("every ts block compiles as a consumer's strict module", async () => {
    const blocks = await tsBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const folder = await mkdtemp(join(tmpdir(), "asc-kit-readmes-"));
    folders.push(folder);
    const files: string[] = [];
    for (const [index, block] of blocks.entries()) {
      const file = join(folder, `block-${index}.ts`);
      // A module, so that top-level await and imports work as in the reader's own file.
      await writeFile(file, `${block.code}\nexport {};\n`);
      files.push(file);
    }
    await writeFile(join(folder, "package.json"), '{ "type": "module" }\n');
    const givensFile = join(folder, "givens.d.ts");
    await writeFile(givensFile, givens);
    const packages = await readdir(join(root, "packages"));
    const program = ts.createProgram([...files, givensFile], {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
      types: ["node"],
      typeRoots: [join(root, "node_modules/@types")],
      skipLibCheck: true,
      noEmit: true,
      paths: {
        // The published packages by name, resolved to what they publish (their built types).
        ...Object.fromEntries(
          packages.flatMap((name) => [
            [`@asc-kit/${name}`, [join(root, "packages", name, "dist/index.d.ts")]],
            [`@asc-kit/${name}/*`, [join(root, "packages", name, "dist/*.d.ts")]],
          ]),
        ),
        // Peers an example uses, installed beside the package that names them.
        ...(await peersOf(packages)),
      },
    });
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
      const index = diagnostic.file ? files.indexOf(diagnostic.file.fileName) : -1;
      const block = blocks[index];
      if (!block || !diagnostic.file || diagnostic.start === undefined) return text;
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      return `${block.readme}:${block.line + line}: ${text}`;
    });
    expect(problems, relative(root, folder)).toEqual([]);
  }, 30_000);
});
