import {
  addAlternativeDistributionKey,
  createAppStoreConnectClient,
  listAlternativeDistributionKeys,
} from "@asc-kit/core";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxHandlers } from "./msw.js";
import { newPublicKey } from "./test-support/suite.js";
import { createSandbox } from "./web.js";

/** The README's msw example, as a test: code that calls Apple's host is served by the sandbox. */
const sandbox = await createSandbox();
const server = setupServer(...sandboxHandlers(sandbox));
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());

describe("msw handlers", () => {
  it("serve a client with its default base URL and the global fetch", async () => {
    const client = createAppStoreConnectClient(sandbox.credentials);
    const added = await addAlternativeDistributionKey(client, { publicKey: newPublicKey() });
    expect(added.error).toBeUndefined();
    const listed = await listAlternativeDistributionKeys(client);
    expect(listed.data?.map((key) => key.id)).toEqual([added.data?.data.id]);
    expect(sandbox.stats.creates).toBe(1);
  });
});
