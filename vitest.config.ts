// One `npm test` over every package: schema and executor in Node, the control plane in workerd.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["schema", "control-plane", "executor"],
  },
});
