// The smallest executor config the daemon accepts (one repo, one provider, nothing reachable),
// for tests that build an executor without running anything; `top` lines go before the tables.
export const MINIMAL_ENV = { MTOR_EXECUTOR_SECRET: "s", PROVIDER_KEY: "k" };

export function minimalConfig(
  opts: { controlPlane?: string; top?: string[]; tables?: string[] } = {},
): string {
  return [
    `control_plane = ${JSON.stringify(opts.controlPlane ?? "http://127.0.0.1:9")}`,
    'id = "box-a"',
    ...(opts.top ?? []),
    "[repos.demo]",
    'url = "/srv/demo.git"',
    "[providers.demo]",
    'base_url = "http://127.0.0.1:9"',
    'token_env = "PROVIDER_KEY"',
    'model = "m"',
    ...(opts.tables ?? []),
  ].join("\n");
}
