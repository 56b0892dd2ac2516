// Control-plane tests run inside workerd with the real Fleet Durable Object, built from the
// test entry: the production Worker plus a Fleet whose clock the tests pin (test/worker/).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      main: "./test/worker/index.ts",
      miniflare: {
        bindings: {
          OPERATOR_TOKENS:
            "admin:test-admin-token:admin,disp:test-dispatch-token:dispatch,reader:test-read-token:read",
          EXECUTOR_KEYS: "k1:test-secret-one,k2:test-secret-two",
          ACTION_SECRET: "test-action-secret",
          ALLOW_PRIVATE_WEBHOOKS: "true",
        },
      },
    }),
  ],
  test: { name: "control-plane", include: ["test/**/*.test.ts"] },
});
