// The monitor pass driven by the pinned clock: lease expiry the alarm missed,
// timeouts, the breaker's way back, runaway chains, idempotence, and indexed queries only.
import { runInDurableObject } from "cloudflare:test";
import type { GateFlag } from "@mtor/schema/gates";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { beforeAll, describe, expect, it } from "vitest";
import { tables } from "../src/core/db";
import { SpendLedger } from "../src/core/spend";
import { runMonitorPass } from "../src/monitor/pass";
import { buildReport } from "../src/report/build";
import { deliverDue, fanOut, nextWake } from "../src/webhooks/deliver";
import { listDeliveries } from "../src/webhooks/endpoints";
import { api, dispatchSpec, executorClient, startClock, tick } from "./helpers";
import {
  claimOne,
  createWebhook,
  deleteAllWebhooks,
  monitorPass,
  receiver,
  runAlarm,
  sendVerdict,
  specStatus,
  stub,
} from "./webhooks-helpers";

const client = executorClient();

beforeAll(async () => {
  await startClock(Date.UTC(2026, 0, 12, 20, 0, 0));
});

async function specDetail(id: string) {
  return (await (await api(`/v1/specs/${id}`)).json()) as {
    status: string;
    attempt: number;
    max_attempt: number;
    next_attempt_at: string | null;
    runs: { attempt: number; status: string; failure: { kind: string } | null }[];
  };
}

async function provider(name: string) {
  const list = (await (await api("/v1/providers")).json()) as {
    providers: { name: string; breaker: { state: string }; effective_slots: number; slots: number }[];
  };
  return list.providers.find((p) => p.name === name)!;
}

const tests_missing: GateFlag = { gate: "tests_missing", action: "reject", detail: "test_a was not added" };

describe("lifecycle", () => {
  it("a lease the alarm missed is taken back by the monitor pass: queued again at once, no attempt charged", async () => {
    const id = await dispatchSpec("lease expiry", { provider: "m-lease", attempts: "2" });
    const run1 = await claimOne("ex-m-lease", "m-lease");
    expect(run1.attempt).toBe(1);

    await tick(91_000);
    const p1 = await monitorPass();
    expect(p1.pass.changes.leases_expired).toBeGreaterThanOrEqual(1);
    const spec = await specDetail(id);
    expect(spec).toMatchObject({ status: "queued", attempt: 1, max_attempt: 3, next_attempt_at: null });
    expect(spec.runs[0].failure?.kind).toBe("lost_lease");
    const run2 = await claimOne("ex-m-lease", "m-lease");
    expect(run2).toMatchObject({ spec_id: id, attempt: 2 });
  });

  it("cancels a run that passes its spec's timeout, even while it heartbeats", async () => {
    const id = await dispatchSpec("timeout", { provider: "m-timeout", timeout: "5m", attempts: "1" });
    const run = await claimOne("ex-m-timeout", "m-timeout");
    for (let i = 0; i < 4; i++) {
      await tick(60_000);
      const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
      expect(hb.ok && hb.data.cancel).toBe(false);
      expect((await monitorPass()).pass.details.timed_out).not.toContain(run.run_id);
    }
    await tick(60_000);
    const pass = await monitorPass();
    expect(pass.pass.details.timed_out).toContain(run.run_id);
    const spec = await specDetail(id);
    expect(spec.status).toBe("dead");
    expect(spec.runs[0]).toMatchObject({ status: "finished", failure: { kind: "timeout" } });
    // The executor hears about it on its next heartbeat and stops.
    const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
    expect(hb.ok).toBe(false);
    expect(hb.status).toBe(409);
  });

  it("moves a breaker open → half-open → closed", async () => {
    const ids = [];
    for (let i = 0; i < 4; i++)
      ids.push(await dispatchSpec(`breaker ${i}`, { provider: "m-breaker", attempts: "1" }));
    for (let i = 0; i < 3; i++) {
      const run = await claimOne("ex-m-breaker", "m-breaker");
      await sendVerdict(run, {
        outcome: "failed",
        failure: { kind: "provider", message: "upstream 529 overloaded" },
      });
    }
    expect((await provider("m-breaker")).breaker.state).toBe("open");
    await tick(60_000);
    expect((await monitorPass()).pass.changes.breakers_moved).toBe(0);
    expect((await provider("m-breaker")).breaker.state).toBe("open");

    await tick(4 * 60_000);
    expect((await monitorPass()).pass.changes.breakers_moved).toBe(1);
    expect((await provider("m-breaker")).breaker.state).toBe("half_open");

    const trial = await claimOne("ex-m-breaker", "m-breaker");
    await sendVerdict(trial, { outcome: "passed" });
    expect((await provider("m-breaker")).breaker.state).toBe("closed");
  });

  it("flags a runaway chain — every attempt used, the same gates each time — once, with spec.stuck", async () => {
    const wh = await createWebhook({ url: "https://hooks.example.com/stuck", events: ["spec.stuck"] });
    const r = receiver(() => new Response("ok"));
    try {
      const id = await dispatchSpec("runaway", { provider: "m-runaway", attempts: "2" });
      const calm = await dispatchSpec("not runaway", { provider: "m-runaway", attempts: "2" });
      // The queue hands out the oldest first; a retried spec keeps its place.
      const outOfScope: GateFlag = { gate: "out_of_scope", action: "reject", detail: "touched docs/" };
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const run = await claimOne("ex-m-runaway", "m-runaway");
        seen.push(`${run.spec_id === id ? "id" : "calm"}#${run.attempt}`);
        const flags = run.spec_id === calm && run.attempt === 2 ? [outOfScope] : [tests_missing];
        await sendVerdict(run, { outcome: "rejected", flags });
      }
      expect(seen.sort()).toEqual(["calm#1", "calm#2", "id#1", "id#2"]);
      expect(await specStatus(id)).toBe("rejected");
      expect(await specStatus(calm)).toBe("rejected");

      const first = await monitorPass();
      expect(first.pass.details.runaway).toEqual([id]);
      const second = await monitorPass();
      expect(second.pass.changes.runaway_flagged).toBe(0);

      await runAlarm();
      const stuck = r.received.map(
        (q) =>
          JSON.parse(q.body) as { type: string; data: { spec_id: string; kind: string; reason: string } },
      );
      expect(stuck).toHaveLength(1);
      expect(stuck[0]).toMatchObject({ type: "spec.stuck", data: { spec_id: id, kind: "runaway" } });
      expect(stuck[0].data.reason).toMatch(/all 2 attempts.*tests_missing/);
      void wh;
    } finally {
      r.restore();
      await deleteAllWebhooks();
    }
  });

  it("flags a queued spec whose `after` spec ended without approval as stuck", async () => {
    const dep = await dispatchSpec("dependency", { provider: "m-after", attempts: "1" });
    const waiting = await dispatchSpec("waits", { provider: "m-after", after: `[${dep}]` });
    expect((await monitorPass()).pass.details.stuck).not.toContain(waiting);
    await api(`/v1/specs/${dep}/kill`, { method: "POST" });
    expect((await monitorPass()).pass.details.stuck).toEqual([waiting]);
    expect((await monitorPass()).pass.details.stuck).toEqual([]);
  });

  it("flags a run that keeps its lease but never starts working as stuck, once", async () => {
    const id = await dispatchSpec("stalled", { provider: "m-stalled" });
    const run = await claimOne("ex-m-stalled", "m-stalled");
    for (let i = 0; i < 15; i++) {
      await tick(60_000);
      await client.heartbeat(run.run_id, { token: run.lease.token, phase: "preparing" });
      const pass = await monitorPass();
      expect(pass.pass.details.stuck.includes(id)).toBe(i === 14);
    }
    expect(await specStatus(id)).toBe("leased");
    await tick(60_000);
    await client.heartbeat(run.run_id, { token: run.lease.token, phase: "preparing" });
    expect((await monitorPass()).pass.details.stuck).not.toContain(id);
  });

  it("recomputes effective slots that drifted outside [1, slots]", async () => {
    await api("/v1/providers/m-slots", { method: "PUT", body: { slots: 2 } });
    await runInDurableObject(stub(), (_i, state) => {
      state.storage.sql.exec("UPDATE providers SET effective_slots = 7 WHERE name = 'm-slots'");
    });
    expect((await monitorPass()).pass.details.slots_recomputed).toEqual(["m-slots"]);
    expect((await provider("m-slots")).effective_slots).toBe(2);
    expect((await monitorPass()).pass.details.slots_recomputed).toEqual([]);
  });

  it("two passes in a row: the second changes nothing, and /v1/status shows it", async () => {
    await dispatchSpec("idle lease", { provider: "m-idem", attempts: "3" });
    await claimOne("ex-m-idem", "m-idem");
    await api("/v1/providers/m-idem", { method: "PUT", body: { slots: 3 } });
    await tick(120_000);

    const snapshot = () =>
      runInDurableObject(stub(), (_i, state) =>
        ["specs", "runs", "providers", "outbox", "monitor_flags", "webhook_deliveries"].map((t) =>
          JSON.stringify(state.storage.sql.exec(`SELECT * FROM ${t} ORDER BY 1`).toArray()),
        ),
      );
    const first = await monitorPass();
    expect(first.pass.changes.leases_expired).toBeGreaterThanOrEqual(1);
    const after1 = await snapshot();
    const second = await monitorPass();
    expect(Object.values(second.pass.changes).every((n) => n === 0)).toBe(true);
    expect(await snapshot()).toEqual(after1);

    const status = (await (await api("/v1/status")).json()) as {
      monitor: { id: number; changes: Record<string, number> };
    };
    expect(status.monitor.id).toBe(second.pass.id);
    expect(status).not.toHaveProperty("monitor_hint");
    expect(status.monitor.changes.leases_expired).toBe(0);
  });
});

describe("cost", () => {
  it("uses an index for every query on the big tables (EXPLAIN QUERY PLAN)", async () => {
    await createWebhook({ url: "https://hooks.example.com/eqp", events: ["spec.verdict", "monitor.digest"] });
    const r = receiver(() => new Response("ok"));
    try {
      const plans = await runInDurableObject(stub(), async (_i, state) => {
        const seen: { sql: string; params: unknown[] }[] = [];
        const db = drizzle(state.storage, {
          schema: tables,
          logger: { logQuery: (sql, params) => seen.push({ sql, params }) },
        });
        const deps = {
          db,
          now: () => Date.UTC(2026, 0, 13, 7, 30),
          random: () => 0.5,
          spend: new SpendLedger(),
        };
        state.storage.transactionSync(() => runMonitorPass(db, deps, { REPORT_HOUR_UTC: "7" }));
        await fanOut(deps, {});
        await deliverDue(deps, {});
        nextWake(db, deps.now());
        buildReport(db, deps.now() - 24 * 3600_000, deps.now());
        listDeliveries(db, "wh_x", 50, null);
        const out: { sql: string; plan: string[] }[] = [];
        for (const q of seen) {
          if (!/^\s*(select|update|delete)/i.test(q.sql)) continue;
          const plan = state.storage.sql
            .exec(
              `EXPLAIN QUERY PLAN ${q.sql}`,
              ...(q.params as (string | number | null)[]).map((p) =>
                typeof p === "boolean" ? Number(p) : p,
              ),
            )
            .toArray()
            .map((row) => String(row.detail));
          out.push({ sql: q.sql, plan });
        }
        return out;
      });
      expect(plans.length).toBeGreaterThan(15);
      // Small tables (providers, settings, gates, webhook endpoints) may be scanned; these grow.
      const big =
        /^(SCAN) (specs|runs|outbox|webhook_deliveries|monitor_passes|monitor_flags|action_links|nonces|idempotency_keys)\b/;
      const scans = plans.filter((p) => p.plan.some((line) => big.test(line)));
      expect(scans, JSON.stringify(scans, null, 1)).toEqual([]);
    } finally {
      r.restore();
      await deleteAllWebhooks();
    }
  });
});
