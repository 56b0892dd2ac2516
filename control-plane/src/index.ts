import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

export class Fleet extends DurableObject<Env> {
  async ping(): Promise<number> {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO t VALUES (1)");
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM t").one().n as number;
  }
}
interface Env { FLEET: DurableObjectNamespace<Fleet> }
const app = new Hono<{ Bindings: Env }>();
app.get("/healthz", async (c) => c.json({ ok: true, n: await c.env.FLEET.get(c.env.FLEET.idFromName("fleet")).ping() }));
export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
