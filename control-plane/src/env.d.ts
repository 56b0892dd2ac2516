// Bindings wrangler types cannot see: test-only switches set by the vitest config.
declare namespace Cloudflare {
  interface Env {
    /** "true" lets Fleet.setClock pin the clock; only the tests set it. */
    MTOR_TEST_CLOCK?: string;
    /** In wrangler.toml's vars; here until `npm run cf-typegen` next runs. "": the request's origin. */
    PUBLIC_URL: string;
  }
}
