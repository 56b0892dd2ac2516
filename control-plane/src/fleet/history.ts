// The fleet's history for the report's timeline: a period begins or ends only when a state
// changes (a breaker trips or closes, a provider cools, a freeze, a window closing, a budget
// reached), never on a claim. The monitor pass keeps window periods in step with the clock and
// prunes what is older than two weeks.
import { backlogSamples, fleetPeriods, HISTORY_KEEP_MS, type PeriodKind } from "@mtor/schema/tables/history";
import { and, asc, desc, eq, gte, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "../core/db";
import { fleetSettings, windowsAt } from "./controls";

const PRUNE_BATCH = 500;

/** The period of this kind and provider (null: the whole fleet) still lasting at `at`. */
function ongoing(tx: Db, kind: PeriodKind, provider: string | null, at: number) {
  return tx
    .select()
    .from(fleetPeriods)
    .where(
      and(
        eq(fleetPeriods.kind, kind),
        provider === null ? isNull(fleetPeriods.provider) : eq(fleetPeriods.provider, provider),
        or(isNull(fleetPeriods.endedAt), gte(fleetPeriods.endedAt, at)),
      ),
    )
    .orderBy(desc(fleetPeriods.startedAt))
    .get();
}

/**
 * Begins a period at `at`, or carries on the one already lasting. `until` is a known end (a
 * cooling's Retry-After), which pushes a lasting period's end later, never earlier.
 */
export function beginPeriod(
  tx: Db,
  kind: PeriodKind,
  provider: string | null,
  at: number,
  opts: { until?: number; detail?: string } = {},
): void {
  const current = ongoing(tx, kind, provider, at);
  if (current) {
    if (opts.until !== undefined && current.endedAt !== null && opts.until > current.endedAt) {
      tx.update(fleetPeriods).set({ endedAt: opts.until }).where(eq(fleetPeriods.id, current.id)).run();
    }
    return;
  }
  tx.insert(fleetPeriods)
    .values({ kind, provider, startedAt: at, endedAt: opts.until ?? null, detail: opts.detail ?? null })
    .run();
}

/** Ends at `at` the period of this kind and provider that is still open, if there is one. */
export function endPeriod(tx: Db, kind: PeriodKind, provider: string | null, at: number): void {
  tx.update(fleetPeriods)
    .set({ endedAt: at })
    .where(
      and(
        eq(fleetPeriods.kind, kind),
        provider === null ? isNull(fleetPeriods.provider) : eq(fleetPeriods.provider, provider),
        isNull(fleetPeriods.endedAt),
      ),
    )
    .run();
}

/** Ends every open period of a provider, as when it is deleted. */
export function endProviderPeriods(tx: Db, provider: string, at: number): void {
  tx.update(fleetPeriods)
    .set({ endedAt: at })
    .where(and(eq(fleetPeriods.provider, provider), isNull(fleetPeriods.endedAt)))
    .run();
}

/**
 * Brings the window periods in step with the windows at `now`: a closed window has an open
 * period, an open one none. Reads the one settings row and the open window periods; writes only
 * when a window opened or closed since the last look.
 */
export function syncWindowPeriods(tx: Db, now: number): number {
  const windows = windowsAt(fleetSettings(tx), now);
  const closed = new Map<string | null, string>();
  if (windows.fleet && !windows.fleet.open) closed.set(null, `${windows.fleet.window} ${windows.fleet.zone}`);
  for (const w of windows.providers) if (!w.open) closed.set(w.provider, `${w.window} ${w.zone}`);
  const open = tx
    .select()
    .from(fleetPeriods)
    .where(and(eq(fleetPeriods.kind, "window"), isNull(fleetPeriods.endedAt)))
    .all();
  let changed = 0;
  for (const p of open) {
    if (closed.has(p.provider)) closed.delete(p.provider);
    else {
      tx.update(fleetPeriods).set({ endedAt: now }).where(eq(fleetPeriods.id, p.id)).run();
      changed++;
    }
  }
  for (const [provider, detail] of closed) {
    tx.insert(fleetPeriods).values({ kind: "window", provider, startedAt: now, detail }).run();
    changed++;
  }
  return changed;
}

/** Deletes history older than two weeks, a bounded batch per table. */
export function pruneHistory(tx: Db, now: number): void {
  const cutoff = now - HISTORY_KEEP_MS;
  tx.run(
    sql`DELETE FROM ${fleetPeriods} WHERE ${fleetPeriods.id} IN (SELECT ${fleetPeriods.id} FROM ${fleetPeriods} WHERE ${fleetPeriods.endedAt} < ${cutoff} LIMIT ${PRUNE_BATCH})`,
  );
  tx.run(
    sql`DELETE FROM ${backlogSamples} WHERE ${backlogSamples.id} IN (SELECT ${backlogSamples.id} FROM ${backlogSamples} WHERE ${backlogSamples.at} < ${cutoff} ORDER BY ${backlogSamples.at} LIMIT ${PRUNE_BATCH})`,
  );
}

export interface HistoryPeriod {
  kind: PeriodKind;
  provider: string | null;
  start: number;
  end: number | null;
  detail: string | null;
}

/** The periods that overlap [since, until], capped, oldest first. */
export function periodsBetween(db: Db, since: number, until: number, cap = 2000): HistoryPeriod[] {
  return db
    .select()
    .from(fleetPeriods)
    .where(
      and(
        lte(fleetPeriods.startedAt, until),
        or(isNull(fleetPeriods.endedAt), gte(fleetPeriods.endedAt, since)),
      ),
    )
    .orderBy(asc(fleetPeriods.startedAt))
    .limit(cap)
    .all()
    .map((p) => ({
      kind: p.kind,
      provider: p.provider,
      start: p.startedAt,
      end: p.endedAt,
      detail: p.detail,
    }));
}

/**
 * The review backlog over [since, until]: the count standing at `since` (the last sample before
 * it) and every sample inside, capped. With no sample at all the count now stands for the range.
 */
export function backlogBetween(
  db: Db,
  since: number,
  until: number,
  cap = 2000,
): { at: number; awaiting_review: number }[] {
  const before = db
    .select()
    .from(backlogSamples)
    .where(lt(backlogSamples.at, since))
    .orderBy(desc(backlogSamples.at))
    .limit(1)
    .get();
  const inside = db
    .select()
    .from(backlogSamples)
    .where(and(gte(backlogSamples.at, since), lte(backlogSamples.at, until)))
    .orderBy(asc(backlogSamples.at), asc(backlogSamples.id))
    .limit(cap)
    .all();
  const samples = inside.map((s) => ({ at: s.at, awaiting_review: s.awaitingReview }));
  if (before) return [{ at: since, awaiting_review: before.awaitingReview }, ...samples];
  if (samples.length > 0) return samples;
  const [now] = db.all<{ n: number }>(sql`SELECT count(*) AS n FROM specs WHERE status = 'awaiting_review'`);
  return [{ at: since, awaiting_review: Number(now?.n ?? 0) }];
}
