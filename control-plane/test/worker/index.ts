// The test build's Worker: the production Worker with the test Fleet bound as `Fleet` (the
// class the wrangler config names) and two more routes, `/__test/clock` and `/__test/seed`.
// The control-plane tests, the end-to-end stack and the benchmarks run it; no deployment does.
import type { Hono } from "hono";
import { createApp } from "../../src/app";
import type { AppEnv } from "../../src/app-env";
import worker from "../../src/index";
import { TestFleet } from "./test-fleet";

export type TestFleetRpc = Pick<TestFleet, "setClock" | "benchSeed">;

/** The test Fleet's own RPC methods, beside the ones fleetOf types. */
export function testFleetOf(env: Env): TestFleetRpc {
  return env.FLEET.get(env.FLEET.idFromName("fleet")) as unknown as TestFleetRpc;
}

function mountTestRoutes(app: Hono<AppEnv>): void {
  // The test Fleet checks a signature's time against the clock these routes pin.
  app.use("/v1/executor/*", async (c, next) => {
    c.set("signatureTimeInFleet", true);
    await next();
  });
  // Pin the Fleet's clock ({ms: number | null}) so leases expire and backoffs elapse without
  // waiting; benchmarks add a rate ({ms, rate}) to run it at rate × real time (a compressed night).
  app.post("/__test/clock", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { ms?: unknown; rate?: unknown };
    const ms = typeof body.ms === "number" ? body.ms : null;
    const rate = typeof body.rate === "number" && body.rate > 0 ? body.rate : null;
    const r = await testFleetOf(c.env).setClock(ms, rate);
    return r.ok ? c.json({ now: r.value }) : c.json({ error: r.error }, r.status as 400);
  });
  // Benchmarks: bulk-seed queued specs (copies of a template spec) and finished history.
  app.post("/__test/seed", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as {
      template?: unknown;
      queued?: unknown;
      history?: unknown;
    };
    const r = await testFleetOf(c.env).benchSeed({
      template: typeof body.template === "string" ? body.template : undefined,
      queued: typeof body.queued === "number" ? body.queued : 0,
      history: typeof body.history === "number" ? body.history : 0,
    });
    return r.ok ? c.json(r.value) : c.json({ error: r.error }, r.status as 400);
  });
}

const app = createApp({ mount: mountTestRoutes });

export default {
  ...worker,
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

export { TestFleet as Fleet };
