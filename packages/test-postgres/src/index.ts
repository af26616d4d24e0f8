import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * A real PostgreSQL server for tests: Debian's `postgresql` binaries, a fresh cluster in a
 * temporary folder, a free port on loopback. The server refuses to run as root, so as root it
 * runs as the `postgres` user. `.ci/run` installs the binaries when they are missing.
 */
export interface TestPostgres {
  url: string;
  /** Stops the server (fast shutdown), keeping its data; `start` brings it back on the port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

const run = promisify(execFile);

/** The folder with `initdb` and `postgres`, or undefined when PostgreSQL is not installed. */
export function postgresBinaries(): string | undefined {
  const fromEnv = process.env.ASC_KIT_POSTGRES_BIN;
  if (fromEnv) return fromEnv;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions
    .map((version) => join(root, version, "bin"))
    .find((bin) => existsSync(join(bin, "initdb")));
}

/** As root, the `postgres` user's ids, for the server's processes; otherwise our own. */
async function serverUser(): Promise<{ uid: number; gid: number } | Record<string, never>> {
  if (process.getuid?.() !== 0) return {};
  const { stdout: uid } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  return { uid: Number(uid), gid: Number(gid) };
}

/** A port free on loopback now, for a server a test starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a fresh server; rejects, saying what to install, when PostgreSQL is missing. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = postgresBinaries();
  if (!bin) {
    throw new Error(
      "PostgreSQL is not installed: apt-get install postgresql (or set ASC_KIT_POSTGRES_BIN).",
    );
  }
  // Not under the test run's private temporary folder: the server's user must reach it.
  const folder = await mkdtemp(join("/tmp", "asc-kit-pg-"));
  const user = await serverUser();
  if ("uid" in user) await chown(folder, user.uid, user.gid);
  const data = join(folder, "data");
  await run(
    join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
    { timeout: 60_000, ...user },
  );
  const port = await freePort();
  let server: ChildProcess | undefined;

  async function start() {
    const child = spawn(
      join(bin!, "postgres"),
      [
        ...["-D", data, "-p", String(port), "-k", folder, "-c", "listen_addresses=127.0.0.1"],
        ...["-c", "max_connections=200"],
      ],
      { stdio: ["ignore", "ignore", "pipe"], ...user },
    );
    server = child;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`PostgreSQL did not start:\n${log}`)),
        30_000,
      );
      child.stderr!.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL exited (${code}):\n${log}`));
      });
    });
    child.stderr!.resume();
  }

  async function stop() {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // PostgreSQL's fast shutdown: every connection closed, the data kept.
    child.kill("SIGINT");
    await exited;
  }

  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async destroy() {
      await stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
