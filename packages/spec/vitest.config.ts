import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "spec",
    include: ["src/**/*.test.ts"],
    // The consumer journey generates and type-checks a project: give it room.
    testTimeout: 120_000,
  },
});
