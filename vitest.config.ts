import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*", "scripts"],
    globalSetup: ["./vitest.global-setup.ts"],
  },
});
