// One key/value table: migration 0012 moves the monitor's bookkeeping from monitor_state into
// settings, keeping every row (the monitor tests cover its reads and writes there).
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import migrations from "../drizzle/migrations";

describe("the settings table", () => {
  it("migration 0012 carries the monitor's rows into settings and drops monitor_state", async () => {
    // A Fleet of its own, so nothing else the tests keep in settings is touched.
    const stub = env.FLEET.get(env.FLEET.idFromName("settings-table-migration"));
    const sql = (migrations.migrations as Record<string, string>).m0012;
    expect(sql, "migration 0012 is in the bundle").toContain("monitor_state");
    const rows = await runInDurableObject(stub, (_fleet, state) => {
      const db = state.storage.sql;
      // The table as it stood before 0012, with what a pass had written to it.
      db.exec("DELETE FROM settings");
      db.exec("CREATE TABLE monitor_state (key text PRIMARY KEY NOT NULL, value text NOT NULL)");
      db.exec(
        `INSERT INTO monitor_state (key, value) VALUES ('digest', '{"at":5,"outbox_id":7}'), ('runaway_watermark', '123'), ('report', '{"day":"2026-01-01","at":9}')`,
      );
      db.exec(`INSERT INTO settings (key, value) VALUES ('frozen', 'true')`);
      for (const statement of sql.split("--> statement-breakpoint")) db.exec(statement);
      return {
        settings: db.exec("SELECT key, value FROM settings ORDER BY key").toArray(),
        left: db.exec("SELECT name FROM sqlite_master WHERE name = 'monitor_state'").toArray(),
      };
    });
    expect(rows.left).toEqual([]);
    expect(rows.settings).toEqual([
      { key: "digest", value: '{"at":5,"outbox_id":7}' },
      { key: "frozen", value: "true" },
      { key: "report", value: '{"day":"2026-01-01","at":9}' },
      { key: "runaway_watermark", value: "123" },
    ]);
  });
});
