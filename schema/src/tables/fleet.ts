// The Fleet's SQLite tables: specs, runs, providers, executors, gates and fleet settings.
// Times are unix milliseconds; JSON columns hold wire-shaped values.
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { GateFlag, GateSettings } from "../gates";
import type { Spec } from "../spec";
import {
  BREAKER_STATES,
  type Diffstat,
  type Failure,
  type FeedbackEntry,
  type Load,
  RUN_OUTCOMES,
  RUN_STATES,
  type RunReview,
  SPEC_STATUSES,
  type Usage,
} from "../wire";

export const specs = sqliteTable(
  "specs",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    repo: text("repo").notNull(),
    provider: text("provider").notNull(),
    priority: integer("priority").notNull().default(0),
    // Enums on text columns are types only: no CHECK, so no migration.
    status: text("status", { enum: SPEC_STATUSES }).notNull(),
    /** Number of runs started so far. */
    attempt: integer("attempt").notNull().default(0),
    /**
     * The attempt number after which a failure is final; an operator retry raises it, and so
     * does each lost lease, which is not charged.
     */
    maxAttempt: integer("max_attempt").notNull(),
    /** Leases of started runs lost in a row since the last charged run or operator retry. */
    lostStreak: integer("lost_streak").notNull().default(0),
    /**
     * The same losses weighed: each counts 1/k, where k is how many started runs its executor
     * process lost at once. The spec is held (dead) when this reaches three.
     */
    lostShare: real("lost_share").notNull().default(0),
    spec: text("spec", { mode: "json" }).$type<Spec>().notNull(),
    warnings: text("warnings", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    dedupKey: text("dedup_key").notNull(),
    /** Feedback for the next attempt's prompt: the rejected attempt's flags, a decline note. */
    feedback: text("feedback", { mode: "json" }).$type<FeedbackEntry[]>().notNull().default(sql`'[]'`),
    nextAttemptAt: integer("next_attempt_at"),
    currentRunId: text("current_run_id"),
    outcome: text("outcome", { enum: RUN_OUTCOMES }),
    flags: text("flags", { mode: "json" }).$type<GateFlag[]>().notNull().default(sql`'[]'`),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    reviewDecision: text("review_decision"),
    reviewGrade: text("review_grade"),
    reviewNote: text("review_note"),
    reviewBy: text("review_by"),
    reviewAt: integer("review_at"),
  },
  (t) => [
    // The dispatch rule: per repo and provider, queued specs highest priority first, oldest
    // first (rowid breaks ties), in the exact order the claim reads them, so a claim reads a
    // few index entries whatever the backlog, never sorting it.
    index("specs_claim_idx")
      .on(t.repo, t.provider, sql`${t.priority} DESC`, t.createdAt)
      .where(sql`${t.status} = 'queued'`),
    // A new spec's queue position: queued specs ahead of it, counted in the index alone.
    index("specs_queued_idx").on(t.status, t.priority).where(sql`${t.status} = 'queued'`),
    // The review backlog limits: specs awaiting review in a repo, counted up to the limit.
    index("specs_review_idx").on(t.repo).where(sql`${t.status} = 'awaiting_review'`),
    // Listing by status, newest first: a status's specs in rowid order.
    index("specs_status_idx").on(t.status),
    // Dedup: an active spec with the same key.
    index("specs_dedup_idx").on(t.dedupKey, t.status),
    // List, newest first (cursor on created_at, id).
    index("specs_created_idx").on(t.createdAt, t.id),
    // Monitor: failed specs whose backoff elapsed.
    index("specs_backoff_idx").on(t.status, t.nextAttemptAt),
  ],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    specId: text("spec_id").notNull(),
    attempt: integer("attempt").notNull(),
    executorId: text("executor_id").notNull(),
    /** The executor process (its `boot`) the run was leased to, when the executor sent one. */
    executorBoot: text("executor_boot"),
    provider: text("provider").notNull(),
    model: text("model"),
    harness: text("harness"),
    status: text("status", { enum: RUN_STATES }).notNull(),
    phase: text("phase"),
    leaseToken: text("lease_token").notNull(),
    leaseExpiresAt: integer("lease_expires_at").notNull(),
    cancel: integer("cancel", { mode: "boolean" }).notNull().default(false),
    /** The one run a half-open breaker lets through. */
    trial: integer("trial", { mode: "boolean" }).notNull().default(false),
    gates: text("gates", { mode: "json" }).$type<GateSettings>().notNull(),
    feedback: text("feedback", { mode: "json" }).$type<FeedbackEntry[]>().notNull().default(sql`'[]'`),
    progress: text("progress"),
    claimedAt: integer("claimed_at").notNull(),
    startedAt: integer("started_at"),
    heartbeatAt: integer("heartbeat_at"),
    finishedAt: integer("finished_at"),
    outcome: text("outcome", { enum: RUN_OUTCOMES }),
    flags: text("flags", { mode: "json" }).$type<GateFlag[]>().notNull().default(sql`'[]'`),
    failure: text("failure", { mode: "json" }).$type<Failure>(),
    branch: text("branch"),
    baseSha: text("base_sha"),
    headSha: text("head_sha"),
    commits: integer("commits"),
    diffstat: text("diffstat", { mode: "json" }).$type<Diffstat>(),
    usage: text("usage", { mode: "json" }).$type<Usage>(),
    /** The reviewer model's grade and findings, when the executor has a reviewer. */
    review: text("review", { mode: "json" }).$type<RunReview>(),
    durationMs: integer("duration_ms"),
    logTail: text("log_tail"),
    patchId: text("patch_id"),
    /**
     * What the run counts against the spend budget, in USD: the reported cost, else the provider's
     * price table, else the fallback price; null while the run is in flight.
     */
    costUsd: real("cost_usd"),
    /** reported | price | fallback: where `costUsd` came from. */
    costSource: text("cost_source"),
  },
  (t) => [
    index("runs_spec_idx").on(t.specId, t.attempt),
    // Lease expiry: active runs by expiry.
    index("runs_lease_idx").on(t.status, t.leaseExpiresAt),
    // Slots in use per provider.
    index("runs_provider_idx").on(t.provider, t.status),
    // An executor's runs.
    index("runs_executor_idx").on(t.executorId, t.status),
    // An executor process's runs still active or ended lately (finished_at null or recent).
    index("runs_boot_idx").on(t.executorBoot, t.finishedAt).where(sql`${t.executorBoot} IS NOT NULL`),
    // Recent patch ids for the duplicate gate: only runs that have one, newest first.
    index("runs_patch_idx").on(t.finishedAt).where(sql`${t.patchId} IS NOT NULL`),
    index("runs_finished_idx").on(t.finishedAt),
    // The night's spend: summed from the index alone, over the runs finished since the night began.
    index("runs_spend_idx").on(t.finishedAt, t.provider, t.costUsd).where(sql`${t.costUsd} IS NOT NULL`),
  ],
);

/**
 * Each run's patch, apart from `runs` so that listing specs, claiming and the monitor never read
 * it: only showing one spec does.
 */
export const runPatches = sqliteTable("run_patches", {
  runId: text("run_id").primaryKey(),
  text: text("text").notNull(),
  truncated: integer("truncated", { mode: "boolean" }).notNull(),
  bytes: integer("bytes").notNull(),
});

export const providers = sqliteTable("providers", {
  name: text("name").primaryKey(),
  slots: integer("slots").notNull().default(2),
  effectiveSlots: integer("effective_slots").notNull().default(2),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  harness: text("harness"),
  model: text("model"),
  frozen: integer("frozen", { mode: "boolean" }).notNull().default(false),
  breakerState: text("breaker_state", { enum: BREAKER_STATES }).notNull().default("closed"),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  openUntil: integer("open_until"),
  /** The last cooldown, doubled on each trip from half-open. */
  cooldownMs: integer("cooldown_ms").notNull().default(0),
  coolingUntil: integer("cooling_until"),
  /** Failed or rejected runs in a row, for the effective slots. */
  badStreak: integer("bad_streak").notNull().default(0),
  recentOutcomes: text("recent_outcomes", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const executors = sqliteTable("executors", {
  id: text("id").primaryKey(),
  host: text("host").notNull(),
  version: text("version").notNull(),
  arch: text("arch").notNull(),
  capacity: integer("capacity").notNull(),
  providers: text("providers", { mode: "json" }).$type<string[]>().notNull(),
  repos: text("repos", { mode: "json" }).$type<string[]>().notNull(),
  load: text("load", { mode: "json" }).$type<Load>(),
  draining: integer("draining", { mode: "boolean" }).notNull().default(false),
  keyId: text("key_id"),
  lastSeenAt: integer("last_seen_at").notNull(),
  /** The boot id of the executor's current process, from its claims. */
  boot: text("boot"),
  /**
   * The boot a restarted process said it replaces: that process is gone, so a claim still
   * waiting in the Fleet on its behalf gets nothing.
   */
  retiredBoot: text("retired_boot"),
});

export const gates = sqliteTable("gates", {
  name: text("name").primaryKey(),
  action: text("action").notNull(),
  retry: integer("retry", { mode: "boolean" }).notNull(),
});

/**
 * The Fleet's one key/value table: the operator's switches and controls (`frozen`,
 * `night_controls`), the budget's reaches and holds (`budget_state`) and the monitor's
 * bookkeeping (`runaway_watermark`, `digest`, `report`). Gates have a table of their own: one
 * typed row per gate.
 */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).notNull(),
});
