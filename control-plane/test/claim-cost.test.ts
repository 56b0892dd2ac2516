// "A claim that never scans the queue": with thousands of specs queued, awaiting review and in
// history, one claim, two heartbeats, a verdict and the alarm after it each read a bounded
// number of rows, and no statement they run scans specs or runs or sorts them in a temp B-tree.
import { runInDurableObject } from "cloudflare:test";
import type { ClaimedRun, SpecStatus } from "@mtor/schema/wire";
import { describe, expect, it } from "vitest";
import type { Fleet } from "../src/fleet/fleet";
import { api, claimBody, dispatchSpec, startClock } from "./helpers";
import { stub } from "./webhooks-helpers";
import type { TestFleet } from "./worker/test-fleet";

const QUEUED = 5_000;
const AWAITING = 5_000;
const HISTORY = 20_000;
const NOW = Date.UTC(2027, 2, 3, 23, 0, 0);

interface Statement {
  op: string;
  sql: string;
  params: unknown[];
  cursor: SqlStorageCursor<Record<string, SqlStorageValue>>;
}

describe("claim cost", () => {
  it("claim, heartbeat, verdict and the alarm read a bounded number of rows and scan no big table", async () => {
    await startClock(NOW);
    // No fleet-wide limit, so nothing short-circuits the claim; a repo limit that is not reached
    // still has to be checked on every claim.
    const put = await api("/v1/settings", {
      method: "PUT",
      body: { max_awaiting_review: 0, repos: { mtor: { max_awaiting_review: 50 } } },
    });
    expect(put.status).toBe(200);
    const template = await dispatchSpec("cost template", { provider: "cost-p" });

    const result = await runInDurableObject(stub(), async (instance: Fleet, state) => {
      const sql = state.storage.sql;
      const seed = (n: number, select: string) =>
        sql.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) ${select}`);
      const copy = (prefix: string, status: string, repo: string, provider: string, n: number) =>
        seed(
          n,
          `INSERT INTO specs (id, title, repo, provider, priority, status, attempt, max_attempt, spec, dedup_key, created_at, updated_at)
           SELECT '${prefix}' || i, title, '${repo}', '${provider}', priority, '${status}', 0, max_attempt, spec, '${prefix}k' || i, ${NOW} + i, ${NOW} + i
           FROM n, specs WHERE specs.id = '${template}'`,
        );
      // Behind the template in its own lane, in other lanes, and waiting for a person.
      copy("q", "queued", "mtor", "cost-p", QUEUED);
      copy("o", "queued", "elsewhere", "cost-p", QUEUED);
      copy("a", "awaiting_review", "mtor-other", "cost-p", AWAITING);
      copy("m", "awaiting_review", "mtor", "cost-p", 10);
      const old = NOW - 60 * 24 * 3600_000;
      seed(
        HISTORY,
        `INSERT INTO specs (id, title, repo, provider, priority, status, attempt, max_attempt, spec, dedup_key, created_at, updated_at, outcome)
         SELECT 'h' || i, 'history ' || i, 'mtor', 'cost-p', 0, 'approved', 1, 1, '{}', 'hk' || i, ${old} + i, ${old} + i, 'passed' FROM n`,
      );
      seed(
        HISTORY,
        `INSERT INTO runs (id, spec_id, attempt, executor_id, provider, status, lease_token, lease_expires_at, gates, claimed_at, finished_at, outcome, flags, patch_id)
         SELECT 'rh' || i, 'h' || i, 1, 'old-ex', 'cost-p', 'finished', 't', ${old} + i, '{}', ${old} + i, ${old} + i + 1000, 'passed', '[]', 'p' || i FROM n`,
      );

      // Every statement the Fleet runs from here on, with its cursor for the rows it read.
      const seen: Statement[] = [];
      let op = "";
      const exec = sql.exec.bind(sql);
      sql.exec = ((query: string, ...params: unknown[]) => {
        const cursor = exec(query, ...(params as SqlStorageValue[]));
        seen.push({ op, sql: query, params, cursor });
        return cursor;
      }) as typeof sql.exec;
      let n = 0;
      const signer = () => ({ keyId: "k1", nonce: `cost-${n++}`, created: Math.floor(NOW / 1000) });
      const cycle = async (as: string | null) => {
        const mark = (name: string) => {
          op = as ?? name;
        };
        mark("claim");
        const claim = await instance.claim(claimBody("cost-ex", { providers: ["cost-p"] }), signer());
        if (!claim.ok || claim.value.runs.length !== 1) throw new Error(`claim: ${JSON.stringify(claim)}`);
        const run = claim.value.runs[0];
        for (const phase of ["preparing", "harness"]) {
          mark("heartbeat");
          const hb = await instance.heartbeat(run.run_id, { token: run.lease.token, phase }, signer());
          if (!hb.ok) throw new Error(`heartbeat: ${JSON.stringify(hb)}`);
        }
        mark("verdict");
        const v = await instance.verdict(
          run.run_id,
          { token: run.lease.token, outcome: "passed", flags: [], duration_ms: 1 },
          signer(),
        );
        if (!v.ok) throw new Error(`verdict: ${JSON.stringify(v)}`);
        mark("alarm");
        await instance.alarm();
      };
      try {
        // The first cycle registers the executor and fills what is read once (caches, the
        // first review backlog sample); the second is what every later one costs.
        await cycle("warm-up");
        await cycle(null);
      } finally {
        sql.exec = exec;
      }

      const rows: Record<string, number> = {};
      const worst: Record<string, { rows: number; sql: string }> = {};
      const plans: { op: string; sql: string; plan: string[] }[] = [];
      for (const s of seen) {
        if (s.op === "warm-up") continue;
        rows[s.op] = (rows[s.op] ?? 0) + s.cursor.rowsRead;
        if (s.cursor.rowsRead > (worst[s.op]?.rows ?? -1))
          worst[s.op] = { rows: s.cursor.rowsRead, sql: s.sql };
        if (!/^\s*(select|update|delete|insert|with)/i.test(s.sql)) continue;
        const plan = exec(`EXPLAIN QUERY PLAN ${s.sql}`, ...(s.params as SqlStorageValue[]))
          .toArray()
          .map((r) => String(r.detail));
        plans.push({ op: s.op, sql: s.sql, plan });
      }
      const specCount = exec("SELECT count(*) AS n FROM specs").one().n as number;
      return { rows, worst, plans, specCount, statements: seen.length };
    });

    expect(result.specCount).toBeGreaterThan(QUEUED * 2 + AWAITING + HISTORY);
    expect(Object.keys(result.rows).sort()).toEqual(["alarm", "claim", "heartbeat", "verdict"]);
    // Reading any one of the seeded sets would take thousands of rows; a claim reads a page of
    // its lane, the review count stops at the repo's limit (50).
    const bound: Record<string, number> = { claim: 400, heartbeat: 60, verdict: 120, alarm: 120 };
    for (const [op, rows] of Object.entries(result.rows)) {
      expect(rows, `${op}: ${JSON.stringify(result.worst[op])}`).toBeLessThan(bound[op]);
    }
    // Small tables (providers, executors, settings, gates) may be scanned; these grow. An index
    // read in its own order and cut by a LIMIT stops early; a sort of specs means reading them all.
    const bad = result.plans.filter(
      (p) =>
        p.plan.some((line) => /^SCAN (specs|runs|outbox|nonces)\b/.test(line)) &&
        !(
          /\blimit\b/i.test(p.sql) &&
          !p.plan.some((line) => line.includes("TEMP B-TREE")) &&
          p.plan.every((line) => !/^SCAN \w+$/.test(line))
        ),
    );
    const sorts = result.plans.filter(
      (p) => /\bfrom "?specs"?/i.test(p.sql) && p.plan.some((line) => line.includes("TEMP B-TREE")),
    );
    expect(sorts, JSON.stringify(sorts, null, 1)).toEqual([]);
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(result.plans.length).toBeGreaterThan(20);
  });
});

describe("list cost", () => {
  it("a status-filtered list page reads about `count` rows per status, however many specs have it", async () => {
    await startClock(NOW);
    const template = await dispatchSpec("list template", { provider: "list-p" });
    const result = await runInDurableObject(stub(), async (instance: Fleet, state) => {
      const sql = state.storage.sql;
      for (const [prefix, status] of [
        ["lq", "queued"],
        ["la", "approved"],
        ["ld", "dead"],
      ]) {
        sql.exec(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
           INSERT INTO specs (id, title, repo, provider, priority, status, attempt, max_attempt, spec, dedup_key, created_at, updated_at)
           SELECT '${prefix}' || i, title, repo, provider, priority, '${status}', 0, max_attempt, spec, '${prefix}k' || i, ${NOW} + i, ${NOW} + i
           FROM n, specs WHERE specs.id = '${template}'`,
        );
      }
      const exec = sql.exec.bind(sql);
      const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
      sql.exec = ((query: string, ...params: unknown[]) => {
        const cursor = exec(query, ...(params as SqlStorageValue[]));
        cursors.push(cursor);
        return cursor;
      }) as typeof sql.exec;
      const read = async (q: { count: number; statuses: SpecStatus[]; cursor?: string }) => {
        cursors.length = 0;
        const page = await instance.listSpecs(q);
        if (!page.ok) throw new Error(JSON.stringify(page));
        return { page: page.value, rows: cursors.reduce((n, c) => n + c.rowsRead, 0) };
      };
      try {
        const queued = await read({ count: 50, statuses: ["queued"] });
        const next = await read({ count: 50, statuses: ["queued"], cursor: queued.page.next_cursor ?? "" });
        const two = await read({ count: 50, statuses: ["approved", "queued"] });
        return {
          queued: {
            rows: queued.rows,
            ids: queued.page.specs.map((s) => s.id),
            statuses: queued.page.specs.map((s) => s.status),
          },
          next: { rows: next.rows, ids: next.page.specs.map((s) => s.id) },
          two: {
            rows: two.rows,
            statuses: [...new Set(two.page.specs.map((s) => s.status))].sort(),
            ids: two.page.specs.map((s) => s.id),
          },
        };
      } finally {
        sql.exec = exec;
      }
    });
    // Newest first, 50 to a page, the next page going on where the first stopped.
    expect(result.queued.ids).toEqual(Array.from({ length: 50 }, (_, i) => `lq${10000 - i}`));
    expect(result.next.ids).toEqual(Array.from({ length: 50 }, (_, i) => `lq${9950 - i}`));
    // Seeded in order queued, approved, dead: the newest approved come before every queued one.
    expect(result.two.statuses).toEqual(["approved"]);
    expect(result.two.ids[0]).toBe("la10000");
    // Sorting 10 000 queued specs would read them all.
    expect(result.queued.rows).toBeLessThan(300);
    expect(result.next.rows).toBeLessThan(300);
    expect(result.two.rows).toBeLessThan(500);
  });
});

describe("budget cost", () => {
  it("with budgets set, a claim reads no more rows after 300 runs charged tonight than after 10, and the hold still follows every charge", {
    timeout: 60_000,
  }, async () => {
    const T0 = Date.UTC(2027, 4, 1, 22, 0, 0);
    await startClock(T0);
    const put = (path: string, body: unknown) => api(path, { method: "PUT", body });
    expect((await put("/v1/settings", { max_awaiting_review: 0, budget_usd: 1000 })).status).toBe(200);
    expect((await put("/v1/providers/spend-p", { budget_usd: 3.5 })).status).toBe(200);
    expect((await put("/v1/providers/spend-q", { budget_usd: 0.5 })).status).toBe(200);
    const template = await dispatchSpec("spend template", { repo: "spend-r", provider: "spend-p" });
    await dispatchSpec("lost lease", { repo: "spend-r", provider: "spend-q" });

    const result = await runInDurableObject(stub(), async (fleet: Fleet, state) => {
      const instance = fleet as TestFleet;
      const seeded = await instance.benchSeed({ template, queued: 400 });
      if (!seeded.ok) throw new Error(JSON.stringify(seeded));
      let clock = T0;
      let n = 0;
      const signer = () => ({ keyId: "k1", nonce: `spend-${n++}`, created: Math.floor(clock / 1000) });
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      const claim = async (provider: string) => {
        const seen: { sql: string; cursor: SqlStorageCursor<Record<string, SqlStorageValue>> }[] = [];
        sql.exec = ((query: string, ...params: unknown[]) => {
          const cursor = exec(query, ...(params as SqlStorageValue[]));
          seen.push({ sql: query, cursor });
          return cursor;
        }) as typeof sql.exec;
        try {
          const r = await instance.claim(
            claimBody(`spend-ex-${provider}`, { providers: [provider], repos: ["spend-r"] }),
            signer(),
          );
          if (!r.ok) throw new Error(JSON.stringify(r));
          return {
            ...r.value,
            rows: seen.reduce((sum, s) => sum + s.cursor.rowsRead, 0),
            sums: seen.filter((s) => /\bsum\(/i.test(s.sql)).map((s) => s.sql),
          };
        } finally {
          sql.exec = exec;
        }
      };
      const report = async (run: ClaimedRun, costUsd: number) => {
        const hb = await instance.heartbeat(
          run.run_id,
          { token: run.lease.token, phase: "harness" },
          signer(),
        );
        if (!hb.ok) throw new Error(JSON.stringify(hb));
        const v = await instance.verdict(
          run.run_id,
          {
            token: run.lease.token,
            outcome: "passed",
            flags: [],
            duration_ms: 1,
            usage: { input_tokens: 1, output_tokens: 1, cost_usd: costUsd, turns: 1 },
          },
          signer(),
        );
        if (!v.ok) throw new Error(JSON.stringify(v));
      };
      /** Claims one run on `provider` and reports it at `costUsd`; returns the claim. */
      const finish = async (provider: string, costUsd: number) => {
        const c = await claim(provider);
        if (c.runs.length !== 1) throw new Error(`claim on ${provider}: ${JSON.stringify(c)}`);
        await report(c.runs[0], costUsd);
        return c;
      };

      for (let i = 0; i < 9; i++) await finish("spend-p", 0.01);
      const after10 = await finish("spend-p", 0.01);
      for (let i = 0; i < 289; i++) await finish("spend-p", 0.01);
      const after300 = await finish("spend-p", 0.01);
      // $3.00 + $0.60 from one more verdict is over spend-p's $3.50: the hold follows the verdict.
      await finish("spend-p", 0.6);
      const overByVerdict = await claim("spend-p");

      // A run picked up and then lost counts at the fallback ($1), charged by the alarm.
      const lost = await claim("spend-q");
      if (lost.runs.length !== 1) throw new Error(`claim on spend-q: ${JSON.stringify(lost)}`);
      const run = lost.runs[0];
      const hb = await instance.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" }, signer());
      if (!hb.ok) throw new Error(JSON.stringify(hb));
      clock += 600_000;
      await instance.setClock(clock);
      await instance.alarm();
      const overByExpiry = await claim("spend-q");
      // What the settings show is summed from the runs table.
      const shown = await instance.settings();
      if (!shown.ok) throw new Error(JSON.stringify(shown));

      // A transaction that rolls back makes the Fleet forget tonight's spend: the next claim
      // loads it from the runs table again and holds just the same.
      expect((await instance.kill("no-such-spec")).ok).toBe(false);
      const afterRollback = await claim("spend-p");

      // A day later the rolling night holds none of it: claims flow again.
      clock += 25 * 3600_000;
      await instance.setClock(clock);
      const nextNight = await claim("spend-p");
      return {
        after10,
        after300,
        overByVerdict,
        overByExpiry,
        afterRollback,
        nextNight,
        lines: shown.value.budget.providers,
      };
    });

    expect(result.after10.runs).toHaveLength(1);
    expect(result.after300.runs).toHaveLength(1);
    // Summing tonight's runs would read every one of them on each claim.
    expect(result.after300.sums).toEqual([]);
    expect(result.after300.rows).toBeLessThanOrEqual(result.after10.rows + 5);
    expect(result.overByVerdict).toMatchObject({ runs: [], reason: "budget" });
    expect(result.overByExpiry).toMatchObject({ runs: [], reason: "budget" });
    expect(result.afterRollback).toMatchObject({ runs: [], reason: "budget" });
    expect(result.nextNight.runs).toHaveLength(1);
    // The table's sums agree with what held the claims.
    expect(result.lines).toEqual([
      expect.objectContaining({ provider: "spend-p", spend_usd: 3.6, holding: true }),
      expect.objectContaining({ provider: "spend-q", spend_usd: 1, holding: true }),
    ]);
  });
});
