import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "reliability",
    include: ["src/**/*.test.ts"],
    // Bounded in count; the time limit is a safety net for a slow machine, not a benchmark.
    testTimeout: 120_000,
  },
});
