import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "marketplace",
    include: ["src/**/*.test.ts"],
    // A PostgreSQL server and worker processes start for the pipeline's tests.
    hookTimeout: 60_000,
    testTimeout: 120_000,
  },
});
