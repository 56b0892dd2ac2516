// Names and plain-data types shared by the Temporal workflow (sandboxed), its activities and
// the executor-side engine. Pure: the workflow bundle imports this module.
import type { ClaimedRun, Failure, Phase, VerdictRequest } from "@mtor/schema";
import type { PreparedRun, ReportOutcome } from "../engine/types";
import type { StopReason } from "../engine/verdict";

/** The workflow type every claimed run starts. */
export const WORKFLOW_TYPE = "specRun";

/** `mtor-<run_id>`: one workflow per run, so a re-claim attaches instead of duplicating work. */
export function workflowIdFor(runId: string): string {
  return `mtor-${runId}`;
}

/** `<prefix>-<provider>`: the queue a provider's runs start on, served by every box with that provider. */
export function taskQueueFor(prefix: string, provider: string): string {
  return `${prefix}-${provider}`;
}

/**
 * `<prefix>-<provider>@<executor id>`: the queue of one box. A run's worktree lives on the box
 * that prepared it, so every step after prepareWorktree is routed here.
 */
export function boxQueueFor(prefix: string, provider: string, executorId: string): string {
  return `${prefix}-${provider}@${executorId}`;
}

/**
 * ApplicationFailure types the activities raise: stops are non-retryable; `git` and `internal`
 * step errors retry. (Business outcomes are returned as values, not raised.)
 */
export const FAILURE_TYPE = {
  lostLease: "lost_lease",
  canceled: "canceled",
  git: "git",
  internal: "internal",
  /** This box already holds as many runs of the provider as its capacity: try another box. */
  boxBusy: "box_busy",
} as const;

/** Timeouts and retries of the steps; sent with the workflow input so every box agrees. */
export interface StepTiming {
  /** Heartbeat timeout of the long steps (harness, gates, preflight, push): a few minutes. */
  heartbeatTimeoutMs: number;
  /** Start-to-close of the short steps (prepare, push, report, cleanup). */
  stepTimeoutMs: number;
  /** How long a step may wait for its box before the box is considered gone. */
  boxStartTimeoutMs: number;
  /** Attempts of a step that fails transiently (git, control plane unreachable). */
  maxAttempts: number;
  /** First retry delay, doubling up to 1 min. */
  initialRetryMs: number;
}

export const DEFAULT_TIMING: StepTiming = {
  heartbeatTimeoutMs: 3 * 60_000,
  stepTimeoutMs: 15 * 60_000,
  boxStartTimeoutMs: 10 * 60_000,
  maxAttempts: 3,
  initialRetryMs: 5_000,
};

export interface SpecRunInput {
  run: ClaimedRun;
  timing?: Partial<StepTiming>;
}

/** What the workflow returns: the verdict it built and what the control plane said. */
export interface SpecRunResult {
  verdict: VerdictRequest;
  report?: ReportOutcome;
  stopped?: StopReason;
  /** The box that ran the steps (its queue), when prepareWorktree completed. */
  boxQueue?: string;
}

/** prepareWorktree as an activity also names the queue of the box that now holds the worktree. */
export interface PreparedOnBox {
  prepared: PreparedRun;
  boxQueue: string;
}

/** Details carried by a non-retryable failure so the workflow can rebuild the step's outcome. */
export interface FailureDetails {
  failure?: Failure;
  phase?: Phase;
}

/** Signal name: stop the run for a reason (lost lease, operator kill); the stopper then cancels. */
export const STOP_SIGNAL = "stop";
/** Query name: the run's current phase, for the lease heartbeats of the engine. */
export const PHASE_QUERY = "phase";
/**
 * Query name: the run's result once its verdict is built. A cancelled workflow has no return
 * value, so whoever awaits a stopped run reads its verdict here.
 */
export const RESULT_QUERY = "result";
