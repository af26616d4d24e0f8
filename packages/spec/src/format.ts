import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Formats with the project's prettier when it has one (the in-repo output is compared byte for
 * byte), and leaves the text as it is otherwise: prettier is an optional peer.
 */
export async function formatted(text: string, filepath: string): Promise<string> {
  let prettier: typeof import("prettier");
  try {
    prettier = await import("prettier");
  } catch {
    return text;
  }
  const config = (await prettier.resolveConfig(filepath)) ?? {};
  return prettier.format(text, { ...config, filepath });
}

/** A file shipped beside the built code (the excerpt, the lint rules), or the repository's. */
export function shippedFile(name: string): string {
  const beside = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return existsSync(beside)
    ? beside
    : fileURLToPath(new URL(`../../../spec/${name}`, import.meta.url));
}
