// Leases with fencing tokens: heartbeats renew them, verdicts end them, expiry fails the run.
// Every spec transition here writes its outbox event in the same transaction.
import { runPatches, runs, specs } from "@mtor/schema/tables/fleet";
import type {
  Failure,
  FleetSettings,
  HeartbeatRequest,
  HeartbeatResponse,
  SpecStatus,
  VerdictRequest,
  VerdictResponse,
} from "@mtor/schema/wire";
import { and, asc, eq, gte, inArray, isNull, lte, min, or, sql } from "drizzle-orm";
import { iso } from "../core/clock";
import type { Db, Deps } from "../core/db";
import { emit } from "../core/outbox";
import { DEFAULT_TIMINGS, timingsOf } from "../core/timings";
import { ApiError, notFound } from "../errors";
import { backoffMs } from "./backoff";
import { budgetHold, chargeRun } from "./budget";
import { fleetSettings } from "./controls";
import { checkRunSigner, recordLoad } from "./executors";
import { recordPreflightPassed, recordRunEnd } from "./providers";
import type { RunRow, SpecRow } from "./views";

/** The default lease TTL (MTOR_LEASE_TTL_S sets it). */
export const LEASE_TTL_S = DEFAULT_TIMINGS.leaseTtlS;
/**
 * A claimed run's lease holds this long until the executor's first heartbeat, which it sends
 * as soon as it has the run: a claim answered to a client that had already gone goes back to
 * the queue within seconds instead of a whole TTL. The default; MTOR_PICKUP_S sets it.
 */
export const PICKUP_S = DEFAULT_TIMINGS.pickupS;
/**
 * Leases a spec may lose in a row before it is held (dead) instead of requeued again, each
 * weighed by lostShare: three alone, more when they went down together with other runs.
 */
export const MAX_LOST_LEASES = 3;
/** What a charged run, a passed one or an operator retry does to the lost-lease streak. */
export const NO_LOST_LEASES = { lostStreak: 0, lostShare: 0 } as const;
/** Phases before preflight passed; any other phase (also one the mtor executor never sends) is running. */
const PRE_RUNNING_PHASES = new Set(["claimed", "preparing", "preflight"]);
/**
 * Phases a run reaches only after its preflight passed. `reporting` is not one: a run whose
 * preflight failed reports too.
 */
const PAST_PREFLIGHT_PHASES = new Set(["harness", "gates", "pushing"]);
export const EXPIRE_BATCH = 100;

function sameToken(a: string, b: string): boolean {
  // Constant time over the longer string, so a guess learns nothing from timing.
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

const leaseLost = (runId: string, why: string) =>
  new ApiError(409, "lease_lost", `the lease of run ${runId} is no longer yours (${why}); stop this run`);

function getRun(db: Db, id: string): RunRow {
  const run = db.select().from(runs).where(eq(runs.id, id)).get();
  if (!run) throw notFound("run", id);
  return run;
}

function specOf(db: Db, run: RunRow): SpecRow | undefined {
  return db.select().from(specs).where(eq(specs.id, run.specId)).get();
}

/** The spec is this run's to move only while the run is its current attempt and it is in flight. */
function ownsSpec(s: SpecRow | undefined, run: RunRow): boolean {
  return !!s && s.currentRunId === run.id && (s.status === "leased" || s.status === "running");
}

/** The key that signed an executor request, and the keys EXECUTOR_KEYS holds now. */
export interface SignedBy {
  keyId: string;
  liveKeys: ReadonlySet<string>;
}

/** A heartbeat's answer, and whether it changed a provider (a passed preflight closed its breaker). */
export interface HeartbeatResult {
  answer: HeartbeatResponse;
  providerChanged: boolean;
}

export function heartbeat(
  tx: Db,
  deps: Deps,
  runId: string,
  req: HeartbeatRequest,
  by: SignedBy,
): HeartbeatResult {
  const now = deps.now();
  const run = getRun(tx, runId);
  checkRunSigner(tx, run.executorId, by.keyId, by.liveKeys);
  if (!sameToken(run.leaseToken, req.token)) throw leaseLost(runId, "a newer lease holds it");
  if (run.status === "finished") throw leaseLost(runId, "the run already ended");
  if (run.leaseExpiresAt <= now) throw leaseLost(runId, "the lease expired");

  const expiresAt = now + timingsOf(deps).leaseTtlS * 1000;
  const running = run.status === "running" || !PRE_RUNNING_PHASES.has(req.phase);
  tx.update(runs)
    .set({
      leaseExpiresAt: expiresAt,
      heartbeatAt: now,
      phase: req.phase,
      progress: req.progress ?? run.progress,
      status: running ? "running" : run.status,
      startedAt: running ? (run.startedAt ?? now) : run.startedAt,
    })
    .where(eq(runs.id, runId))
    .run();
  const s = specOf(tx, run);
  if (s && running && ownsSpec(s, run) && s.status === "leased") {
    tx.update(specs).set({ status: "running", updatedAt: now }).where(eq(specs.id, s.id)).run();
  }
  if (req.load) recordLoad(tx, run.executorId, req.load, now);
  // The first heartbeat past preflight: the provider answered this run.
  const providerChanged =
    PAST_PREFLIGHT_PHASES.has(req.phase) &&
    !PAST_PREFLIGHT_PHASES.has(run.phase ?? "") &&
    recordPreflightPassed(tx, now, run.provider, run.trial);
  return { answer: { cancel: run.cancel, expires_at: iso(expiresAt) }, providerChanged };
}

/** Which spec and attempt a run event is about; every run event starts with these. */
function runEventFields(s: SpecRow, run: RunRow) {
  return { spec_id: s.id, title: s.title, repo: s.repo, run_id: run.id, attempt: run.attempt };
}

/**
 * Failed attempts since the spec was last queued with a fresh budget, this one included: the
 * backoff doubles per failure, so a gate rejection or a lost lease before it does not count.
 * An operator retry set max_attempt to the attempt then plus `attempts`, and each lost lease
 * since added one, so the budget began at max_attempt - attempts - (lost runs after it),
 * solved from the top down; where that leaves a doubt, the runs in doubt are lost ones, which
 * do not count anyway.
 */
function failuresInBudget(db: Db, s: SpecRow, run: RunRow): number {
  const rows = db.all<{ attempt: number; outcome: string | null; kind: string | null }>(sql`
    SELECT attempt, outcome, json_extract(failure, '$.kind') AS kind
    FROM ${runs} WHERE spec_id = ${s.id} AND attempt < ${run.attempt}`);
  const isLost = (r: { kind: string | null }) => r.kind === "lost_lease";
  const top = s.maxAttempt - s.spec.attempts;
  let start = top;
  for (;;) {
    const next = top - rows.filter((r) => isLost(r) && r.attempt > start).length;
    if (next === start) break;
    start = next;
  }
  return rows.filter((r) => r.attempt > start && r.outcome === "failed" && !isLost(r)).length + 1;
}

/** Moves a spec whose current attempt failed to failed (backoff) or dead, with its event. */
export function failSpec(tx: Db, deps: Deps, s: SpecRow, run: RunRow, failure: Failure): SpecStatus {
  const now = deps.now();
  const event = {
    ...runEventFields(s, run),
    failure,
  };
  if (s.attempt < s.maxAttempt) {
    const nextAttemptAt = now + backoffMs(failuresInBudget(tx, s, run), deps.random(), timingsOf(deps));
    tx.update(specs)
      .set({
        status: "failed",
        outcome: "failed",
        flags: [],
        nextAttemptAt,
        ...NO_LOST_LEASES,
        updatedAt: now,
      })
      .where(eq(specs.id, s.id))
      .run();
    emit(tx, now, "spec.failed", { ...event, next_attempt_at: iso(nextAttemptAt) });
    return "failed";
  }
  tx.update(specs)
    .set({
      status: "dead",
      outcome: "failed",
      flags: [],
      nextAttemptAt: null,
      ...NO_LOST_LEASES,
      updatedAt: now,
    })
    .where(eq(specs.id, s.id))
    .run();
  emit(tx, now, "spec.dead", { ...event, attempts: s.attempt });
  return "dead";
}

export function verdict(
  tx: Db,
  deps: Deps,
  runId: string,
  req: VerdictRequest,
  by: SignedBy,
): VerdictResponse {
  const now = deps.now();
  const run = getRun(tx, runId);
  checkRunSigner(tx, run.executorId, by.keyId, by.liveKeys);
  if (!sameToken(run.leaseToken, req.token)) throw leaseLost(runId, "a newer lease holds it");
  if (run.status === "finished") {
    // The same verdict sent twice (a retried request) gets the same answer. A run the control
    // plane ended itself (lease expired, timed out) carries no duration: its lease is gone.
    if (run.durationMs === null)
      throw leaseLost(runId, `the control plane ended the run (${run.failure?.kind ?? "ended"})`);
    return { status: specOf(tx, run)?.status ?? "failed" };
  }
  if (run.leaseExpiresAt <= now) throw leaseLost(runId, "the lease expired");

  const failure: Failure | undefined =
    req.outcome === "failed"
      ? (req.failure ?? { kind: "internal", message: "the executor gave no failure" })
      : undefined;
  tx.update(runs)
    .set({
      status: "finished",
      finishedAt: now,
      phase: "reporting",
      outcome: req.outcome,
      flags: req.flags,
      failure: failure ?? null,
      branch: req.branch ?? null,
      baseSha: req.base_sha ?? null,
      headSha: req.head_sha ?? null,
      commits: req.commits ?? null,
      diffstat: req.diffstat ?? null,
      review: req.review ?? null,
      usage: req.usage ?? null,
      durationMs: req.duration_ms,
      logTail: req.log_tail ?? null,
      patchId: req.patch_id ?? null,
      startedAt: run.startedAt ?? run.claimedAt,
    })
    .where(eq(runs.id, runId))
    .run();
  if (req.patch)
    tx.insert(runPatches)
      .values({ runId, ...req.patch })
      .onConflictDoNothing()
      .run();
  const settings = fleetSettings(tx);
  chargeRun(tx, deps.spend, settings, run, req.usage, req.review?.provider);
  budgetHold(tx, now, settings, deps.spend);
  recordRunEnd(tx, now, run.provider, timingsOf(deps), {
    outcome: req.outcome,
    failureKind: failure?.kind,
    retryAfterS: failure?.retry_after_s,
    trial: run.trial,
  });

  const s = specOf(tx, run);
  // The origin changed beyond the run's branch: said at once, whatever becomes of the spec.
  const security = req.flags.filter((f) => f.gate === "protected_branch_touched");
  if (s && security.length > 0) {
    emit(tx, now, "run.security", {
      ...runEventFields(s, run),
      provider: run.provider,
      executor: run.executorId,
      outcome: req.outcome,
      flags: security,
    });
  }
  if (!s || !ownsSpec(s, run)) return { status: s?.status ?? "canceled" };

  const event = {
    ...runEventFields(s, run),
    provider: run.provider,
    executor: run.executorId,
    outcome: req.outcome,
    flags: req.flags,
    branch: req.branch ?? null,
    head_sha: req.head_sha ?? null,
    diffstat: req.diffstat ?? null,
    // The reviewer model's grade (null when there is no reviewer, or it gave none: see review.error).
    grade: req.review?.grade ?? null,
    review: req.review ?? null,
  };
  if (req.outcome === "passed") {
    tx.update(specs)
      .set({
        status: "awaiting_review",
        outcome: "passed",
        flags: req.flags,
        feedback: [],
        ...NO_LOST_LEASES,
        updatedAt: now,
      })
      .where(eq(specs.id, s.id))
      .run();
    emit(tx, now, "spec.verdict", { ...event, status: "awaiting_review" });
    return { status: "awaiting_review" };
  }
  if (req.outcome === "rejected") {
    const rejecting = req.flags.filter((f) => f.action === "reject");
    const retryable =
      rejecting.length > 0 &&
      rejecting.every((f) => run.gates[f.gate]?.retry === true) &&
      s.attempt < s.maxAttempt;
    if (retryable) {
      const feedback = rejecting;
      tx.update(specs)
        .set({
          status: "queued",
          outcome: "rejected",
          flags: req.flags,
          feedback,
          nextAttemptAt: null,
          ...NO_LOST_LEASES,
          updatedAt: now,
        })
        .where(eq(specs.id, s.id))
        .run();
      return { status: "queued" };
    }
    tx.update(specs)
      .set({ status: "rejected", outcome: "rejected", flags: req.flags, ...NO_LOST_LEASES, updatedAt: now })
      .where(eq(specs.id, s.id))
      .run();
    emit(tx, now, "spec.verdict", { ...event, status: "rejected" });
    return { status: "rejected" };
  }
  if (failure?.kind === "lost_lease") return { status: requeueLost(tx, deps, s, run, failure) };
  return { status: failSpec(tx, deps, s, run, failure!) };
}

/**
 * Puts the spec of a run whose executor went away back in the queue at once, with no backoff
 * and the attempt not charged: losing an executor is not the spec's fault. The next run still
 * gets a new attempt number, so its branch (`mtor/<spec_id>-<attempt>`) is not one the lost
 * run may already have pushed; max_attempt rises by one to make up for it. A spec whose picked-up
 * runs were lost in a row, weighed by lostShare, MAX_LOST_LEASES times is held instead (dead,
 * with the reason), so one that kills its executors cannot loop forever, while specs that only
 * happened to run beside it, or on an executor that keeps dying for reasons of its own, last
 * longer.
 */
function requeueLost(tx: Db, deps: Deps, s: SpecRow, run: RunRow, failure: Failure): SpecStatus {
  const now = deps.now();
  // Only a run that was picked up counts: a claim nobody picked up says nothing of the spec.
  const pickedUp = run.heartbeatAt !== null;
  const lost = s.lostStreak + (pickedUp ? 1 : 0);
  const share = s.lostShare + (pickedUp ? lostShare(tx, deps, run) : 0);
  // A little slack for the sum of fractions (three thirds).
  if (pickedUp && share >= MAX_LOST_LEASES - 1e-9) {
    const weighed = lost > MAX_LOST_LEASES ? ", each weighed by how many runs its executor lost with it" : "";
    const held: Failure = {
      kind: "lost_lease",
      message: `held after ${lost} lost leases in a row${weighed}: every executor that ran it stopped or lost contact (last: ${failure.message}); find out why before you retry it`,
    };
    tx.update(runs).set({ failure: held }).where(eq(runs.id, run.id)).run();
    tx.update(specs)
      .set({ status: "dead", outcome: "failed", flags: [], nextAttemptAt: null, updatedAt: now })
      .where(eq(specs.id, s.id))
      .run();
    emit(tx, now, "spec.dead", { ...runEventFields(s, run), failure: held, attempts: s.attempt });
    return "dead";
  }
  tx.update(specs)
    .set({
      status: "queued",
      maxAttempt: s.maxAttempt + 1,
      lostStreak: lost,
      lostShare: share,
      nextAttemptAt: null,
      updatedAt: now,
    })
    .where(eq(specs.id, s.id))
    .run();
  return "queued";
}

/**
 * How much one lost lease counts toward holding its spec: 1 over how many started runs the same
 * executor process lost at about the same time, this one included. A process that dies takes
 * every run it holds, and nothing tells which of them (if any) killed it; a spec that kills its
 * executor does so again when it runs alone, and counts 1 then. Counted: the process's runs
 * still active (they go with it) and those already lost within two lease windows. A run of an
 * executor that sent no boot counts 1.
 */
function lostShare(tx: Db, deps: Deps, run: RunRow): number {
  if (!run.executorBoot) return 1;
  const t = timingsOf(deps);
  const since = deps.now() - 2 * Math.max(t.leaseTtlS, t.pickupS) * 1000;
  const recent = tx
    .select({ id: runs.id, status: runs.status, heartbeatAt: runs.heartbeatAt, failure: runs.failure })
    .from(runs)
    .where(
      and(eq(runs.executorBoot, run.executorBoot), or(isNull(runs.finishedAt), gte(runs.finishedAt, since))),
    )
    .all();
  const together = new Set([run.id]);
  for (const r of recent) {
    if (r.heartbeatAt === null) continue;
    if (r.status === "leased" || r.status === "running" || r.failure?.kind === "lost_lease")
      together.add(r.id);
  }
  return 1 / together.size;
}

/**
 * Ends active runs whose executor is gone: each fails as `lost_lease` with its message, a run
 * that was picked up is charged at the fallback price (it may have spent what it never
 * reported), and its spec goes back to the queue at once (see requeueLost). Returns how many.
 */
function loseRuns(tx: Db, deps: Deps, gone: RunRow[], messageOf: (run: RunRow) => string): number {
  const now = deps.now();
  let settings: FleetSettings | undefined;
  for (const run of gone) {
    const failure: Failure = { kind: "lost_lease", message: messageOf(run) };
    tx.update(runs)
      .set({ status: "finished", finishedAt: now, outcome: "failed", failure })
      .where(eq(runs.id, run.id))
      .run();
    if (run.heartbeatAt !== null) {
      settings ??= fleetSettings(tx);
      chargeRun(tx, deps.spend, settings, run, null, null);
    }
    const s = specOf(tx, run);
    if (s && ownsSpec(s, run)) requeueLost(tx, deps, s, { ...run, failure }, failure);
  }
  return gone.length;
}

/**
 * Ends runs whose lease passed without a heartbeat and requeues their specs at once (see
 * requeueLost); returns how many. Run by the alarm set at the earliest expiry, and by the
 * monitor pass for whatever an alarm missed.
 */
export function expireLeases(tx: Db, deps: Deps): number {
  const now = deps.now();
  const expired = tx
    .select()
    .from(runs)
    .where(and(inArray(runs.status, ["leased", "running"]), lte(runs.leaseExpiresAt, now)))
    .orderBy(asc(runs.leaseExpiresAt))
    .limit(EXPIRE_BATCH)
    .all();
  return loseRuns(tx, deps, expired, (run) =>
    run.heartbeatAt === null
      ? `executor ${run.executorId} never picked the run up (no heartbeat within ${timingsOf(deps).pickupS}s of the claim)`
      : `no heartbeat from executor ${run.executorId} within the lease (${timingsOf(deps).leaseTtlS}s)`,
  );
}

/**
 * Ends at once the active runs leased to an executor process that a restarted process of the
 * same executor says is gone (`previous_boot` in its claim), except the runs the new process
 * carries on (`resumed`). Without this they would hold their slots until their leases ran out:
 * a run handed to the old process's long poll after it died was never even seen by it.
 * Returns how many runs ended.
 */
export function releaseBoot(
  tx: Db,
  deps: Deps,
  executorId: string,
  boot: string,
  resumed: readonly string[],
): number {
  const keep = new Set(resumed);
  const gone = tx
    .select()
    .from(runs)
    .where(
      and(
        eq(runs.executorId, executorId),
        inArray(runs.status, ["leased", "running"]),
        eq(runs.executorBoot, boot),
      ),
    )
    .all()
    .filter((r) => !keep.has(r.id));
  return loseRuns(
    tx,
    deps,
    gone,
    (run) =>
      `executor ${executorId} restarted: the process the run was leased to (boot ${boot}) is gone${run.heartbeatAt === null ? " and never picked it up" : ""}`,
  );
}

/** When the next active lease runs out (Fleet clock, ms), or null with none active. */
export function nextLeaseExpiry(db: Db): number | null {
  const row = db
    .select({ at: min(runs.leaseExpiresAt) })
    .from(runs)
    .where(inArray(runs.status, ["leased", "running"]))
    .get();
  return row?.at ?? null;
}

/** Moves failed specs whose backoff elapsed back to queued; returns how many. */
export function requeueDue(tx: Db, deps: Deps): number {
  const now = deps.now();
  const due = tx
    .select({ id: specs.id })
    .from(specs)
    .where(and(eq(specs.status, "failed"), lte(specs.nextAttemptAt, now)))
    .limit(EXPIRE_BATCH)
    .all();
  for (const { id } of due) {
    tx.update(specs)
      .set({ status: "queued", nextAttemptAt: null, updatedAt: now })
      .where(eq(specs.id, id))
      .run();
  }
  return due.length;
}
