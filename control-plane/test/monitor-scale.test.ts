// "Cheap with 100 000 specs in history": after seeding a long history, one monitor pass, one
// webhook alarm and the night's report read a bounded number of rows, whatever the history holds.
import { runInDurableObject } from "cloudflare:test";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { describe, expect, it } from "vitest";
import { tables } from "../src/core/db";
import { SpendLedger } from "../src/core/spend";
import { runMonitorPass } from "../src/monitor/pass";
import { buildReport } from "../src/report/build";
import { deliverDue, fanOut, nextWake } from "../src/webhooks/deliver";
import { dispatchSpec, startClock } from "./helpers";
import { claimOne, stub } from "./webhooks-helpers";

const HISTORY = 100_000;
const NOW = Date.UTC(2027, 5, 1, 7, 20, 0);

describe("scale", () => {
  it(`one pass over a fleet with ${HISTORY} specs and runs in history reads a bounded number of rows`, async () => {
    await startClock(NOW - 3600_000);
    // Some live work on top of the history: queued specs and a leased run.
    for (let i = 0; i < 5; i++) await dispatchSpec(`live ${i}`, { provider: "scale-p" });
    await claimOne("ex-scale", "scale-p");

    const result = await runInDurableObject(stub(), async (_i, state) => {
      const sql = state.storage.sql;
      const old = NOW - 90 * 24 * 3600_000;
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HISTORY})
         INSERT INTO specs (id, title, repo, provider, priority, status, attempt, max_attempt, spec, dedup_key, created_at, updated_at, outcome)
         SELECT 'h' || i, 'history ' || i, 'mtor', 'old-p', 0, CASE i % 4 WHEN 0 THEN 'approved' WHEN 1 THEN 'declined' WHEN 2 THEN 'dead' ELSE 'rejected' END,
                1, 1, '{}', 'k' || i, ${old} + i, ${old} + i, 'passed' FROM n`,
      );
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HISTORY})
         INSERT INTO runs (id, spec_id, attempt, executor_id, provider, status, lease_token, lease_expires_at, gates, claimed_at, finished_at, outcome, flags)
         SELECT 'rh' || i, 'h' || i, 1, 'old-ex', 'old-p', 'finished', 't', ${old} + i, '{}', ${old} + i, ${old} + i + 1000, 'passed', '[]' FROM n`,
      );
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HISTORY})
         INSERT INTO outbox (type, payload, created_at, processed_at) SELECT 'spec.verdict', '{}', ${old} + i, ${old} + i FROM n`,
      );

      const seen: { sql: string; params: unknown[] }[] = [];
      const db = drizzle(state.storage, {
        schema: tables,
        logger: { logQuery: (q, params) => seen.push({ sql: q, params }) },
      });
      const deps = { db, now: () => NOW, random: () => 0.5, spend: new SpendLedger() };
      state.storage.transactionSync(() => runMonitorPass(db, deps, { REPORT_HOUR_UTC: "7" }));
      await fanOut(deps, {});
      await deliverDue(deps, {});
      nextWake(db, NOW);
      buildReport(db, NOW - 24 * 3600_000, NOW);

      // Replays every read to count the rows SQLite touched for it.
      let rowsRead = 0;
      let worst = { rows: 0, sql: "" };
      for (const q of seen) {
        if (!/^\s*select/i.test(q.sql)) continue;
        const cursor = sql.exec(
          q.sql,
          ...(q.params as (string | number | null)[]).map((p) => (typeof p === "boolean" ? Number(p) : p)),
        );
        cursor.toArray();
        rowsRead += cursor.rowsRead;
        if (cursor.rowsRead > worst.rows) worst = { rows: cursor.rowsRead, sql: q.sql };
      }
      const specs = sql.exec("SELECT count(*) AS n FROM specs").one().n as number;
      return { rowsRead, worst, queries: seen.length, specs };
    });

    expect(result.specs).toBeGreaterThanOrEqual(HISTORY);
    expect(result.queries).toBeGreaterThan(15);
    // A full scan of any history table alone would read 100 000 rows.
    expect(result.rowsRead, JSON.stringify(result.worst)).toBeLessThan(5_000);
  });
});
