import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "notifications",
    include: ["src/**/*.test.ts"],
    // Type tests (*.test-d.ts) are compiled by this package's `typecheck` (tsc), where a failed
    // expectTypeOf or an unused @ts-expect-error is an error.
  },
});
