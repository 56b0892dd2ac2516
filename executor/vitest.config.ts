// Executor tests run in Node against real processes (git, harness CLIs, local workerd), hence the long timeouts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "executor",
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
