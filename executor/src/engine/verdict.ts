// The one place a run's outcome is decided from what its steps returned; both engines call it,
// so a local run and a Temporal run of the same facts report the same verdict.
import type {
  ClaimedRun,
  Failure,
  GateFlag,
  ReviewUsage,
  RunOutcome,
  Usage,
  VerdictRequest,
} from "@mtor/schema";
import type {
  GateOutcome,
  HarnessOutcome,
  OriginCheck,
  PreflightOutcome,
  PreparedRun,
  PushOutcome,
} from "./types";

/** Why a run was stopped from outside its steps. */
export type StopReason = "canceled" | "lost_lease" | "timeout" | "drain";

export interface VerdictFacts {
  preflight?: PreflightOutcome;
  harness?: HarnessOutcome;
  /** The origin's listing after the harness, against the one before. */
  origin?: OriginCheck;
  gates?: GateOutcome;
  /** Set when the run was aborted; wins over what the steps returned. */
  stopped?: StopReason;
  /** The spec's timeout, for the message of a timeout. */
  timeoutS?: number;
  /** A step that threw (git, internal): its failure. */
  error?: Failure;
}

export interface Decision {
  outcome: RunOutcome;
  flags: GateFlag[];
  failure?: Failure;
  /** Whether the branch should be pushed (passed or rejected by gates, never failed or stopped). */
  push: boolean;
}

export function decideVerdict(f: VerdictFacts): Decision {
  // The origin moving beyond the run's branch rejects the run whatever else happened, unpushed.
  const security = [
    ...((f.preflight && !f.preflight.ok && f.preflight.security) || []),
    ...(f.origin?.security ?? []),
  ];
  const flags = [...security, ...(f.gates?.flags ?? [])];
  if (f.stopped) {
    const failure: Failure =
      f.stopped === "timeout"
        ? {
            kind: "timeout",
            message: `spec timeout${f.timeoutS ? ` of ${f.timeoutS}s` : ""} reached; harness killed`,
          }
        : f.stopped === "lost_lease"
          ? { kind: "lost_lease", message: "lease lost; run abandoned" }
          : f.stopped === "drain"
            ? { kind: "canceled", message: "executor shutting down; run cancelled at the drain deadline" }
            : { kind: "canceled", message: "cancelled by the control plane" };
    return { outcome: "failed", flags, failure, push: false };
  }
  if (security.length > 0) return { outcome: "rejected", flags, push: false };
  if (f.error) return { outcome: "failed", flags, failure: f.error, push: false };
  if (f.preflight && !f.preflight.ok)
    return { outcome: "failed", flags, failure: f.preflight.failure, push: false };
  if (f.harness && !f.harness.ok) {
    return {
      outcome: "failed",
      flags,
      failure: f.harness.failure ?? { kind: "harness", message: "harness failed" },
      push: false,
    };
  }
  if (!f.gates)
    return {
      outcome: "failed",
      flags,
      failure: { kind: "internal", message: "run ended before its gates" },
      push: false,
    };
  // A rejected branch is still pushed: the reviewer and the next attempt's feedback look at it.
  return { outcome: f.gates.outcome, flags, push: f.gates.commits > 0 };
}

/** The worker's usage with the reviewer's counted apart under `review`. */
function withReviewUsage(usage: Usage | undefined, review: ReviewUsage | undefined): Usage | undefined {
  if (!review) return usage;
  return { ...(usage ?? { input_tokens: 0, output_tokens: 0, cost_usd: 0, turns: 0 }), review };
}

/** The most of a harness's output a verdict carries. */
export const LOG_TAIL_MAX = 16_000;

/** What a finished run knows, turned into the verdict both engines send. */
export function verdictRequest(f: {
  run: ClaimedRun;
  decision: Decision;
  prepared?: PreparedRun;
  harness?: HarnessOutcome;
  gates?: GateOutcome;
  pushed?: PushOutcome;
  durationMs: number;
}): VerdictRequest {
  const verdict: VerdictRequest = {
    token: f.run.lease.token,
    outcome: f.decision.outcome,
    flags: f.decision.flags,
    failure: f.decision.failure,
    branch: f.pushed?.branch,
    base_sha: f.prepared?.baseSha,
    head_sha: f.pushed?.headSha ?? f.gates?.headSha,
    commits: f.gates?.commits,
    diffstat: f.gates?.diffstat,
    patch_id: f.gates?.patchId,
    patch: f.gates?.patch,
    usage: withReviewUsage(f.harness?.usage, f.gates?.reviewUsage),
    review: f.gates?.review,
    duration_ms: Math.max(0, Math.round(f.durationMs)),
    log_tail: f.harness?.logTail ? f.harness.logTail.slice(-LOG_TAIL_MAX) : undefined,
  };
  // Undefined fields do not survive Temporal's JSON payloads; drop them so both engines agree.
  return Object.fromEntries(Object.entries(verdict).filter(([, v]) => v !== undefined)) as VerdictRequest;
}
