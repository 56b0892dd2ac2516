// The steps of one run, shared by both engines: the local engine calls them in-process, the
// Temporal engine wraps each as an activity. They come from `createActivities(deps)`.
import type {
  ClaimedRun,
  Diffstat,
  Failure,
  GateFlag,
  Phase,
  ReviewUsage,
  RunPatch,
  RunReview,
  Usage,
  VerdictRequest,
} from "@mtor/schema";

/** What prepareWorktree hands to the later steps. Plain data: it crosses Temporal's wire. */
export interface PreparedRun {
  runId: string;
  specId: string;
  attempt: number;
  /** `mtor/<spec_id>-<attempt>` */
  branch: string;
  /** The agent's repository: its own, not a worktree of the mirror; the executor never trusts it. */
  workspace: string;
  /** Per-run HOME for the harness. */
  home: string;
  /** The base branch's name (or the ref the spec gave). */
  base: string;
  baseSha: string;
  /** Where the mirror keeps the commits taken from the workspace (outside refs/heads). */
  runRef: string;
  /** The origin's refs (`ls-remote`) before the harness ran: ref name → sha. */
  originBefore: Record<string, string>;
}

export interface HarnessOutcome {
  ok: boolean;
  failure?: Failure;
  usage?: Usage;
  logTail: string;
  durationMs: number;
  /** Part of durationMs: how long the harness's first provider request waited for the preflight. */
  heldMs?: number;
}

/** The origin's listing after the harness, against the one before the run. */
export interface OriginCheck {
  /** What moved on the origin beyond the run's branch during the run. */
  security?: GateFlag[];
  /** The base branch's tip in that listing. */
  baseTip?: string;
}

export interface GateOutcome {
  outcome: "passed" | "rejected";
  flags: GateFlag[];
  commits: number;
  diffstat: Diffstat;
  headSha: string;
  patchId?: string;
  /** The change itself, bounded, for the reviewer on the dashboard and `mtor show --diff`. */
  patch?: RunPatch;
  /** The reviewer's grade, when one is configured and the gates passed. */
  review?: RunReview;
  /** The reviewer's tokens and dollars, apart from the worker's. */
  reviewUsage?: ReviewUsage;
}

export interface PushOutcome {
  branch: string;
  headSha: string;
}

/**
 * `originBefore`: the origin's refs listed before the probe started, the earliest look at them
 * before anything of the agent's ran (the origin check compares against it).
 */
export type PreflightOutcome =
  | { ok: true; originBefore?: Record<string, string> }
  | { ok: false; failure: Failure; security?: GateFlag[] };

/**
 * `spooled`: the control plane was unreachable; the verdict is on disk and the spool keeps
 * resending it. `refused`: a 4xx other than lease_lost (final; the run is over either way).
 */
export type ReportOutcome =
  | { accepted: true; status: string }
  | { accepted: false; reason: "lease_lost" | "spooled" | "refused"; detail?: string };

/**
 * Supplied by the engine around each step: the local engine wires these to its own heartbeat
 * loop and AbortController; the Temporal engine to Context.current().
 */
export interface StepHooks {
  /** Aborted when the run is cancelled (operator kill, lost lease, timeout, drain deadline). */
  signal?: AbortSignal;
  /** Report liveness and phase; renews the control-plane lease. */
  heartbeat?: (phase: Phase, progress?: string) => void;
}

export interface RunActivities {
  prepareWorktree(run: ClaimedRun, hooks?: StepHooks): Promise<PreparedRun>;
  /** Probes the provider in a scratch directory of its own; runs alongside prepareWorktree. */
  preflight(run: ClaimedRun, hooks?: StepHooks): Promise<PreflightOutcome>;
  /**
   * `cleared`: settles once the preflight passed (rejects when it did not). The harness may be
   * started before: its provider tap holds every request until then, and a rejection stops it.
   */
  runHarness(
    run: ClaimedRun,
    prepared: PreparedRun,
    hooks?: StepHooks,
    cleared?: Promise<unknown>,
  ): Promise<HarnessOutcome>;
  /** Lists the origin once the harness and everything it started are gone; runs beside the gates. */
  checkOrigin(run: ClaimedRun, prepared: PreparedRun, hooks?: StepHooks): Promise<OriginCheck>;
  /**
   * `baseTip`: base's tip as the origin check listed it (a promise when the check runs beside
   * the gates); the gates wait for it only where they need it, after taking the agent's commits.
   */
  runGates(
    run: ClaimedRun,
    prepared: PreparedRun,
    harness: HarnessOutcome,
    hooks?: StepHooks,
    baseTip?: string | Promise<string | undefined>,
  ): Promise<GateOutcome>;
  /** Pushes only refs/heads/<branch> with an explicit refspec. Never called after a lost lease. */
  pushBranch(run: ClaimedRun, prepared: PreparedRun, hooks?: StepHooks): Promise<PushOutcome>;
  /** Sends the verdict; when the control plane is unreachable it is spooled to disk and resent. */
  reportVerdict(run: ClaimedRun, verdict: VerdictRequest, hooks?: StepHooks): Promise<ReportOutcome>;
  /** Gives the workspace back to the pool, or keeps it (bounded count) when the run failed. */
  cleanup(run: ClaimedRun, prepared: PreparedRun, keep: boolean): Promise<void>;
}
