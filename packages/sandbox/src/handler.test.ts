import { describe } from "vitest";
import { createSandbox } from "./web.js";
import type { CreateSandboxOptions } from "./web.js";
import { marketplaceSuite } from "./test-support/marketplace-suite.js";
import { sandboxSuite } from "./test-support/suite.js";

describe("in process, through the fetch handler", () => {
  const open = async (options?: CreateSandboxOptions) => {
    const sandbox = await createSandbox(options);
    return { sandbox, send: sandbox.fetch, close: () => sandbox.flush() };
  };
  sandboxSuite(open);
  marketplaceSuite(open);
});
