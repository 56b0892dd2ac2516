// Bindings wrangler types has not caught up with.
declare namespace Cloudflare {
  interface Env {
    /** In wrangler.toml's vars; here until `npm run cf-typegen` next runs. "": the request's origin. */
    PUBLIC_URL: string;
  }
}
