// Runaway chains and stuck specs. A runaway chain is a spec that used all its attempts and every
// attempt was flagged by the same gates: another try would run away the same way. A stuck spec is
// a queued one that can never run because a spec it waits for ended without approval, or one
// whose run keeps its lease but never gets past preparing, or one no executor serves. Each is flagged once per attempt
// (monitor_flags) and announced with spec.stuck.
import { runs, specs } from "@mtor/schema/tables/fleet";
import { monitorFlags } from "@mtor/schema/tables/webhooks";
import { and, asc, eq, gte, inArray, lte } from "drizzle-orm";
import type { Db, Deps } from "../core/db";
import { emit } from "../core/outbox";
import { advertised, unservedReason } from "../fleet/serving";
import { getSetting, putSetting } from "../fleet/settings";
import type { SpecRow } from "../fleet/views";

const RUN_BATCH = 200;
const QUEUED_BATCH = 200;
const BLOCKING = new Set(["dead", "declined", "rejected", "canceled"]);

function raise(tx: Db, now: number, s: SpecRow, kind: "runaway" | "stuck", detail: string): boolean {
  const prior = tx
    .select()
    .from(monitorFlags)
    .where(and(eq(monitorFlags.specId, s.id), eq(monitorFlags.kind, kind)))
    .get();
  if (prior && prior.attempt === s.attempt) return false;
  tx.insert(monitorFlags)
    .values({ specId: s.id, kind, detail, attempt: s.attempt, at: now })
    .onConflictDoUpdate({
      target: [monitorFlags.specId, monitorFlags.kind],
      set: { detail, attempt: s.attempt, at: now },
    })
    .run();
  emit(tx, now, "spec.stuck", {
    spec_id: s.id,
    title: s.title,
    repo: s.repo,
    provider: s.provider,
    status: s.status,
    attempt: s.attempt,
    flags: s.flags,
    kind,
    reason: detail,
  });
  return true;
}

/** The gate names a run was flagged by, as one comparable key ("" when none). */
const gateKey = (flags: { gate: string }[]) => [...new Set(flags.map((f) => f.gate))].sort().join(",");

/** Looks at specs whose runs finished since the last pass. Returns the ids it flagged. */
export function flagRunawayChains(tx: Db, deps: Deps): string[] {
  const now = deps.now();
  // A fleet with a long history starts from the last day rather than wading through all of it.
  const since = getSetting<number>(tx, "runaway_watermark", now - 24 * 3600_000);
  const finished = tx
    .select({ specId: runs.specId, finishedAt: runs.finishedAt })
    .from(runs)
    .where(gte(runs.finishedAt, since))
    .orderBy(asc(runs.finishedAt))
    .limit(RUN_BATCH)
    .all();
  if (!finished.length) return [];
  const flagged: string[] = [];
  for (const specId of new Set(finished.map((r) => r.specId))) {
    const s = tx.select().from(specs).where(eq(specs.id, specId)).get();
    if (!s || !["dead", "rejected"].includes(s.status) || s.attempt < s.maxAttempt || s.attempt < 2) continue;
    const chain = tx
      .select({ attempt: runs.attempt, flags: runs.flags, outcome: runs.outcome })
      .from(runs)
      .where(eq(runs.specId, s.id))
      .orderBy(asc(runs.specId), asc(runs.attempt))
      .all();
    const keys = new Set(chain.map((r) => gateKey(r.flags)));
    const [key] = keys;
    if (chain.length < 2 || keys.size !== 1 || !key) continue;
    const detail = `runaway chain: all ${chain.length} attempts were flagged by ${key.replace(/,/g, ", ")}`;
    if (raise(tx, now, s, "runaway", detail)) flagged.push(s.id);
  }
  // Runs finishing in the same millisecond as the last one are read again next time; raising is idempotent.
  putSetting(tx, "runaway_watermark", finished[finished.length - 1].finishedAt);
  return flagged;
}

/** Queued specs waiting on a spec that ended without approval. Returns the ids it flagged. */
export function flagBlockedSpecs(tx: Db, deps: Deps): string[] {
  const now = deps.now();
  const queued = tx
    .select()
    .from(specs)
    .where(eq(specs.status, "queued"))
    .orderBy(asc(specs.status), asc(specs.priority), asc(specs.createdAt))
    .limit(QUEUED_BATCH)
    .all();
  const flagged: string[] = [];
  for (const s of queued) {
    const after = s.spec.after ?? [];
    if (!after.length) continue;
    const deps_ = tx
      .select({ id: specs.id, status: specs.status })
      .from(specs)
      .where(inArray(specs.id, after))
      .all();
    const blockers = deps_.filter((d) => BLOCKING.has(d.status));
    const missing = after.filter((id) => !deps_.some((d) => d.id === id));
    if (!blockers.length && !missing.length) continue;
    const parts = [
      ...blockers.map((b) => `${b.id} is ${b.status}`),
      ...missing.map((id) => `${id} does not exist`),
    ];
    if (raise(tx, now, s, "stuck", `waits for specs that will not be approved: ${parts.join(", ")}`))
      flagged.push(s.id);
  }
  return flagged;
}

/** A queued spec nothing has served for this long is flagged (executors get time to check in). */
export const UNSERVED_AFTER_MS = 10 * 60_000;

/**
 * Queued specs that no executor seen lately can run: their repo or provider is served by none.
 * Reads the distinct (repo, provider) lanes off the queued-spec index, then only the unserved
 * lanes' specs. Returns the ids it flagged.
 */
export function flagUnservedSpecs(tx: Db, deps: Deps): string[] {
  const now = deps.now();
  const fleet = advertised(tx, now);
  const lanes = tx
    .selectDistinct({ repo: specs.repo, provider: specs.provider })
    .from(specs)
    .where(eq(specs.status, "queued"))
    .all();
  const flagged: string[] = [];
  for (const lane of lanes) {
    const reason = unservedReason(fleet, lane.repo, lane.provider);
    if (!reason) continue;
    const waiting = tx
      .select()
      .from(specs)
      .where(
        and(
          eq(specs.repo, lane.repo),
          eq(specs.provider, lane.provider),
          eq(specs.status, "queued"),
          lte(specs.createdAt, now - UNSERVED_AFTER_MS),
        ),
      )
      .limit(QUEUED_BATCH - flagged.length)
      .all();
    for (const s of waiting) {
      if (raise(tx, now, s, "stuck", `nothing can run it: ${reason}`)) flagged.push(s.id);
    }
    if (flagged.length >= QUEUED_BATCH) break;
  }
  return flagged;
}

/** A run still `leased` (claimed, heartbeating, never reached the harness) after this long is stuck. */
export const STALLED_AFTER_MS = 15 * 60_000;

/** Runs that hold their lease but never started working. Returns the spec ids it flagged. */
export function flagStalledRuns(tx: Db, deps: Deps): string[] {
  const now = deps.now();
  const stalled = tx
    .select()
    .from(runs)
    .where(eq(runs.status, "leased"))
    .orderBy(asc(runs.status), asc(runs.leaseExpiresAt))
    .limit(QUEUED_BATCH)
    .all()
    .filter((r) => now - r.claimedAt >= STALLED_AFTER_MS);
  const flagged: string[] = [];
  for (const run of stalled) {
    const s = tx.select().from(specs).where(eq(specs.id, run.specId)).get();
    if (!s || s.currentRunId !== run.id) continue;
    const minutes = Math.floor((now - run.claimedAt) / 60_000);
    const detail = `run ${run.id} on ${run.executorId} has been ${run.phase ?? "claimed"} for ${minutes} min without starting`;
    if (raise(tx, now, s, "stuck", detail)) flagged.push(s.id);
  }
  return flagged;
}
