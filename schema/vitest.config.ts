// Schema tests run in plain Node: the shared contract has no runtime of its own.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { name: "schema", include: ["test/**/*.test.ts"], environment: "node" },
});
