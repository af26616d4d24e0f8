import { describe } from "vitest";
import { createSandbox } from "./web.js";
import { sandboxSuite } from "./test-support/suite.js";

describe("in process, through the fetch handler", () => {
  sandboxSuite(async (options) => {
    const sandbox = await createSandbox(options);
    return { sandbox, send: sandbox.fetch, close: () => sandbox.flush() };
  });
});
