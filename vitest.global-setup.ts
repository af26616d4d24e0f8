import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every temporary file of a test run goes under one folder of the run's own, removed when the
 * run ends: tests make key files, sandbox state and downloaded packages in `os.tmpdir()`, and
 * none of it should outlive the run. The workers inherit TMPDIR, so `tmpdir()` answers this
 * folder in every test and in every process a test starts.
 */
export async function setup(): Promise<() => Promise<void>> {
  const folder = await mkdtemp(join(tmpdir(), "asc-kit-tests-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = folder;
  return async () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    await rm(folder, { recursive: true, force: true });
  };
}
