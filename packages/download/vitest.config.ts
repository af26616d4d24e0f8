import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "download",
    include: ["src/**/*.test.ts"],
  },
});
