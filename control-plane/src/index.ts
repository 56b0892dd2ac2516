// The control plane Worker: the HTTP API and the cron-driven monitor pass, both over one Fleet.
import { createApp } from "./app";
import { fleetOf } from "./app-env";
import { Fleet } from "./fleet/fleet";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      fleetOf(env)
        .monitorPass()
        .then((r) => {
          if (!r.ok) console.error("monitor pass refused", r.error);
        }),
    );
  },
} satisfies ExportedHandler<Env>;

export { Fleet };
