import { execFile } from "node:child_process";
import { access, mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The clients people use today, at the versions this bench compares against. */
export const peers = {
  "appstore-connect-sdk": "2.0.0",
  "@rage-against-the-pixel/app-store-connect-api": "4.4.1",
} as const;
export type PeerName = keyof typeof peers;

/** Where the peers are installed: ignored by git, outside every workspace package. */
export const peersDir = fileURLToPath(new URL("../.peers/", import.meta.url));

/**
 * Installs the peers with npm on first use (together about 100 MB, which the workspace's own
 * install must not pay), at exact versions.
 */
export async function ensurePeers(): Promise<void> {
  const marker = `${peersDir}node_modules/.asc-kit-bench-${Object.values(peers).join("-")}`;
  if (
    await access(marker).then(
      () => true,
      () => false,
    )
  )
    return;
  await mkdir(peersDir, { recursive: true });
  await writeFile(
    `${peersDir}package.json`,
    JSON.stringify({ name: "asc-kit-bench-peers", private: true }),
  );
  console.error("Installing the peers for the benchmark (first run only)…");
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "--save-exact",
      ...Object.entries(peers).map(([name, version]) => `${name}@${version}`),
    ],
    {
      cwd: peersDir,
    },
  );
  await writeFile(marker, "");
}

/** Resolves a peer's entry the way Node would from the peers folder. */
export function peerModule(specifier: string): string {
  return `${peersDir}node_modules/${specifier}`;
}
