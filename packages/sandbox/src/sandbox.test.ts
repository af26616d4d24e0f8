import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startSandbox } from "./index.js";
import type { SandboxOptions } from "./index.js";
import { marketplaceSuite } from "./test-support/marketplace-suite.js";
import { createBody, newPublicKey, sandboxSuite, starter } from "./test-support/suite.js";

const overHttp = async (options: SandboxOptions = {}) => {
  const sandbox = await startSandbox(options);
  return { sandbox, send: fetch, close: () => sandbox.stop() };
};

describe("over HTTP", () => {
  sandboxSuite(overHttp);
  marketplaceSuite(overHttp);
});

const start = starter(overHttp);

describe("dataFile", () => {
  it("keeps keys and credentials across a restart, written atomically", async () => {
    const folder = await mkdtemp(join(tmpdir(), "asc-kit-sandbox-"));
    const dataFile = join(folder, "sandbox.json");
    const first = await start({ dataFile });
    const id = (
      await first.call("POST", "/v1/alternativeDistributionKeys", createBody(newPublicKey()))
    ).json?.data.id;
    const credentials = first.sandbox.credentials;
    await first.sandbox.stop();
    const second = await start({ dataFile });
    expect(second.sandbox.credentials).toEqual(credentials);
    expect((await second.call("GET", `/v1/alternativeDistributionKeys/${id}`)).status).toBe(200);
    expect(await readdir(folder)).toEqual(["sandbox.json"]);
  });
});
