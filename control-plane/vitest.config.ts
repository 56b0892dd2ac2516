// Control-plane tests run inside workerd with the real Fleet Durable Object.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        bindings: {
          OPERATOR_TOKENS:
            "admin:test-admin-token:admin,disp:test-dispatch-token:dispatch,reader:test-read-token:read",
          EXECUTOR_KEYS: "k1:test-secret-one,k2:test-secret-two",
          ACTION_SECRET: "test-action-secret",
          ALLOW_PRIVATE_WEBHOOKS: "true",
          MTOR_TEST_CLOCK: "true",
        },
      },
    }),
  ],
  test: { name: "control-plane", include: ["test/**/*.test.ts"] },
});
