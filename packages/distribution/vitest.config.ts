import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "distribution",
    include: ["src/**/*.test.ts"],
    // A PostgreSQL server starts for the store's contract suite: its first run takes seconds.
    hookTimeout: 60_000,
  },
});
