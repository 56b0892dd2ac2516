// One monitor pass, run by the cron trigger through Fleet.monitorPass(): lease expiry, retry
// requeue, half-open breakers and purges, then timeouts, effective slots, runaway chains, stuck
// specs, the digest and the daily report.
// It runs in one transaction, touches bounded batches through indexes, and records what it did.

import { eventSubject, outboxEvent } from "@mtor/schema/events";
import { providers } from "@mtor/schema/tables/fleet";
import { outbox } from "@mtor/schema/tables/outbox";
import { type MonitorChanges, monitorPasses } from "@mtor/schema/tables/webhooks";
import type { WebhookEvent } from "@mtor/schema/wire";
import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import { iso } from "../core/clock";
import type { Db, Deps } from "../core/db";
import { emit } from "../core/outbox";
import { pruneHistory, syncWindowPeriods } from "../fleet/history";
import { purgeIdempotency } from "../fleet/idempotency";
import { expireLeases, requeueDue } from "../fleet/leases";
import { purgeNonces } from "../fleet/nonces";
import { halfOpenBreakers } from "../fleet/providers";
import { getSetting, putSetting } from "../fleet/settings";
import { buildReport } from "../report/build";
import { reportText } from "../report/text";
import { pruneOld } from "../webhooks/deliver";
import { flagBlockedSpecs, flagRunawayChains, flagStalledRuns, flagUnservedSpecs } from "./flags";
import { cancelTimedOutRuns } from "./timeouts";

// ---------------------------------------------------------------- the core: leases, retries, breakers

export interface MonitorResult {
  at: number;
  expired_leases: number;
  requeued: number;
  half_opened: number;
}

/** Runs inside one transaction; the caller wakes waiting claims when anything moved. */
function corePass(tx: Db, deps: Deps): MonitorResult {
  const now = deps.now();
  const result: MonitorResult = {
    at: now,
    expired_leases: expireLeases(tx, deps),
    requeued: requeueDue(tx, deps),
    half_opened: halfOpenBreakers(tx, now),
  };
  purgeNonces(tx, now);
  purgeIdempotency(tx, now);
  return result;
}

export const monitorChangedAnything = (r: MonitorResult): boolean =>
  r.expired_leases + r.requeued + r.half_opened > 0;

// ---------------------------------------------------------------- the whole pass

export const DIGEST_EVERY_MS = 15 * 60_000;
const DIGEST_EVENT_CAP = 500;
const PASS_KEEP_MS = 7 * 24 * 3600_000;

export interface MonitorEnv {
  REPORT_HOUR_UTC?: string;
}

export interface PassView {
  id: number;
  at: string;
  duration_ms: number;
  changes: MonitorChanges;
  details: Record<string, string[]>;
  truncated: boolean;
}

export type MonitorPassResult = MonitorResult & { pass: PassView };

export function runMonitorPass(
  tx: Db,
  deps: Deps,
  env: MonitorEnv,
  startedReal = Date.now(),
): MonitorPassResult {
  const now = deps.now();
  const core = corePass(tx, deps);
  const timedOut = cancelTimedOutRuns(tx, deps);
  const slots = recomputeEffectiveSlots(tx, now);
  const runaway = flagRunawayChains(tx, deps);
  const stuck = [...flagBlockedSpecs(tx, deps), ...flagStalledRuns(tx, deps), ...flagUnservedSpecs(tx, deps)];
  const changes: MonitorChanges = {
    leases_expired: core.expired_leases,
    timed_out: timedOut.length,
    requeued: core.requeued,
    breakers_moved: core.half_opened,
    slots_recomputed: slots.length,
    runaway_flagged: runaway.length,
    stuck_flagged: stuck.length,
    digests: 0,
    reports: 0,
  };
  changes.digests = maybeDigest(tx, now, changes) ? 1 : 0;
  changes.reports = maybeDailyReport(tx, now, env) ? 1 : 0;

  const details = { timed_out: timedOut, slots_recomputed: slots, runaway, stuck };
  const row = {
    startedAt: now,
    durationMs: Math.max(0, Date.now() - startedReal),
    changes,
    details,
    // The core's steps take at most 100 rows each; a full batch means more is waiting.
    truncated: core.expired_leases >= 100 || core.requeued >= 100,
  };
  const { id } = tx.insert(monitorPasses).values(row).returning({ id: monitorPasses.id }).get();
  pruneOld(tx, now);
  // The timeline's window periods follow the clock; the rest of the history follows changes.
  syncWindowPeriods(tx, now);
  pruneHistory(tx, now);
  tx.run(
    sql`DELETE FROM ${monitorPasses} WHERE ${monitorPasses.id} IN (SELECT ${monitorPasses.id} FROM ${monitorPasses} WHERE ${monitorPasses.startedAt} < ${now - PASS_KEEP_MS} ORDER BY ${monitorPasses.startedAt} LIMIT 1000)`,
  );
  return {
    ...core,
    pass: { id, at: iso(now), duration_ms: row.durationMs, changes, details, truncated: row.truncated },
  };
}

/** Whether a pass moved anything (the record and the digest bookkeeping aside). */
export const passChanged = (c: MonitorChanges) =>
  c.leases_expired +
    c.timed_out +
    c.requeued +
    c.breakers_moved +
    c.slots_recomputed +
    c.runaway_flagged +
    c.stuck_flagged >
  0;

export function lastPass(db: Db): PassView | null {
  const r = db.select().from(monitorPasses).orderBy(desc(monitorPasses.id)).limit(1).get();
  return r
    ? {
        id: r.id,
        at: iso(r.startedAt),
        duration_ms: r.durationMs,
        changes: r.changes,
        details: r.details,
        truncated: r.truncated,
      }
    : null;
}

/** Effective slots stay within [1, slots], whatever changed the limit meanwhile. Providers are few. */
export function recomputeEffectiveSlots(tx: Db, now: number): string[] {
  const moved: string[] = [];
  for (const p of tx.select().from(providers).all()) {
    const target = Math.max(1, Math.min(p.slots, p.effectiveSlots));
    if (target !== p.effectiveSlots) {
      tx.update(providers)
        .set({ effectiveSlots: target, updatedAt: now })
        .where(eq(providers.name, p.name))
        .run();
      moved.push(p.name);
    }
  }
  return moved;
}

interface DigestState {
  at: number;
  outbox_id: number;
}

const QUIET: readonly string[] = ["monitor.digest", "report.daily"];

/** Emits monitor.digest when events happened since the last one, at most every 15 minutes. */
function maybeDigest(tx: Db, now: number, thisPass: MonitorChanges): boolean {
  const state = getSetting<DigestState>(tx, "digest", { at: 0, outbox_id: 0 });
  if (now - state.at < DIGEST_EVERY_MS) return false;
  const events = tx
    .select({ id: outbox.id, type: outbox.type, payload: outbox.payload })
    .from(outbox)
    .where(gt(outbox.id, state.outbox_id))
    .orderBy(asc(outbox.id))
    .limit(DIGEST_EVENT_CAP)
    .all()
    .filter((e) => !QUIET.includes(e.type));
  const passes = tx
    .select({ changes: monitorPasses.changes })
    .from(monitorPasses)
    .where(and(gt(monitorPasses.startedAt, state.at), lt(monitorPasses.startedAt, now + 1)))
    .orderBy(asc(monitorPasses.startedAt))
    .limit(2000)
    .all();
  const monitor = { ...thisPass };
  for (const p of passes) {
    for (const k of Object.keys(monitor) as (keyof MonitorChanges)[]) monitor[k] += p.changes[k] ?? 0;
  }
  monitor.digests = 0;
  monitor.reports = 0;
  if (!events.length && !passChanged(monitor)) return false;

  const counts: Record<string, number> = {};
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
  const specsTouched = events
    .flatMap((e) => {
      const about = eventSubject(outboxEvent(e));
      return about ? [{ spec_id: about.spec_id, title: about.title, event: e.type }] : [];
    })
    .slice(-20);
  const lines = [
    `since ${state.at ? iso(state.at).slice(0, 16).replace("T", " ") : "the start"}:`,
    ...Object.entries(counts).map(([t, n]) => `${n}× ${t}`),
    ...(Object.entries(monitor) as [string, number][])
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `monitor ${k.replace(/_/g, " ")}: ${n}`),
  ];
  emit(tx, now, "monitor.digest" satisfies WebhookEvent, {
    since: state.at ? iso(state.at) : null,
    until: iso(now),
    events: counts,
    monitor,
    specs: specsTouched,
    text: lines.join("\n"),
  });
  const last = tx
    .select({ id: outbox.id })
    .from(outbox)
    .where(gt(outbox.id, state.outbox_id))
    .orderBy(desc(outbox.id))
    .limit(1)
    .get();
  putSetting(tx, "digest", { at: now, outbox_id: last?.id ?? state.outbox_id } satisfies DigestState);
  return true;
}

interface ReportState {
  day: string;
  at: number;
}

export function reportHour(env: MonitorEnv): number {
  const h = Number(env.REPORT_HOUR_UTC ?? "7");
  return Number.isInteger(h) && h >= 0 && h <= 23 ? h : 7;
}

/** Emits report.daily once a day during the configured UTC hour, covering the time since the last. */
function maybeDailyReport(tx: Db, now: number, env: MonitorEnv): boolean {
  const date = new Date(now);
  if (date.getUTCHours() !== reportHour(env)) return false;
  const day = date.toISOString().slice(0, 10);
  const state = getSetting<ReportState | undefined>(tx, "report", undefined);
  if (state?.day === day) return false;
  const since = state && now - state.at < 48 * 3600_000 ? state.at : now - 24 * 3600_000;
  const report = buildReport(tx, since, now);
  emit(tx, now, "report.daily", {
    since: report.since,
    until: report.until,
    totals: report.totals,
    report: { ...report },
    text: reportText(report),
  });
  putSetting(tx, "report", { day, at: now } satisfies ReportState);
  return true;
}
