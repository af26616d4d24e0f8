import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { coreBundleBudget, measureBundle, minimalCoreConsumer } from "./lib/bundle-size.ts";

const root = new URL("..", import.meta.url).pathname;
let folder: string | undefined;
afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("the size budget", () => {
  it("holds a minimal consumer of @asc-kit/core (as built) within its gzipped budget", async () => {
    folder = await mkdtemp(join(tmpdir(), "asc-kit-size-"));
    // The built package, and its dependencies resolved from where it is, as installed.
    const source = minimalCoreConsumer.replace(
      "@asc-kit/core",
      join(root, "packages/core/dist/index.js"),
    );
    const size = await measureBundle(folder, "core", source);
    expect(
      size.gzippedBytes,
      `${size.gzippedBytes} bytes gzipped; minified by package: ${size.byPackage.map(([name, bytes]) => `${name} ${bytes}`).join(", ")}`,
    ).toBeLessThanOrEqual(coreBundleBudget.gzippedBytes);
    // What a consumer pays for is all there: a bundle without openapi-fetch or jose is broken.
    expect(size.byPackage.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        "openapi-fetch",
        "jose",
        "@asc-kit/core",
        "@asc-kit/pem",
        "@asc-kit/errors",
      ]),
    );
  });
});
