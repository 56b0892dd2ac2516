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
