import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "cli",
    include: ["src/**/*.test.ts"],
    // Each test runs the built binary several times, and GETs retry with backoff: give room.
    testTimeout: 60_000,
  },
});
