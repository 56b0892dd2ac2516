// How step results cross Temporal as failures and back: business outcomes travel as
// non-retryable ApplicationFailures carrying the outcome, stops as typed failures. Pure: used by
// the workflow bundle and by the activities.
import type { Failure, FailureKind } from "@mtor/schema";
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TimeoutFailure,
  TimeoutType,
} from "@temporalio/common";
import type { Classified } from "../engine/run-steps";
import type { StopReason } from "../engine/verdict";
import { FAILURE_TYPE } from "./shared";

/** The details of a failure that is really a step outcome (preflight failed, harness failed, gates rejected). */
export interface OutcomeDetails<T> {
  outcome: T;
}

/** A step outcome that must not be retried: the activity fails, the workflow still reads the outcome. */
export function outcomeFailure<T>(message: string, type: string, outcome: T): ApplicationFailure {
  const details: OutcomeDetails<T> = { outcome };
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: [details] });
}

/** A stop (lost lease, operator kill, drain): non-retryable, no outcome. */
export function stopFailure(reason: StopReason): ApplicationFailure {
  const type = reason === "lost_lease" ? FAILURE_TYPE.lostLease : FAILURE_TYPE.canceled;
  const message =
    reason === "lost_lease"
      ? "lease lost: the control plane no longer holds this run for this executor"
      : reason === "drain"
        ? "executor shutting down: run cancelled at the drain deadline"
        : "run cancelled by the control plane";
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

function causeOf(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause ? err.cause : err;
}

/** The outcome a step reported through `outcomeFailure`, or undefined when `err` is something else. */
export function outcomeOf<T>(err: unknown): T | undefined {
  const cause = causeOf(err);
  if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable) return undefined;
  const first = cause.details?.[0] as Partial<OutcomeDetails<T>> | undefined;
  return first && typeof first === "object" && "outcome" in first ? (first.outcome as T) : undefined;
}

const STEP_KINDS: readonly FailureKind[] = ["git", "internal", "harness"];

/**
 * What a step's error means for the verdict: a stop (cancellation, lost lease, the spec's
 * timeout) or a failure kind. `harnessStep` says the error came from the harness activity, whose
 * start-to-close is the spec's timeout.
 */
export function classifyStepError(
  err: unknown,
  opts: { stopReason?: StopReason; harnessStep?: boolean } = {},
): Classified {
  const cause = causeOf(err);
  if (cause instanceof CancelledFailure || err instanceof CancelledFailure) {
    return { stopped: opts.stopReason ?? "canceled" };
  }
  if (cause instanceof ApplicationFailure) {
    if (cause.type === FAILURE_TYPE.lostLease) return { stopped: "lost_lease" };
    if (cause.type === FAILURE_TYPE.canceled) return { stopped: opts.stopReason ?? "canceled" };
    const kind = STEP_KINDS.find((k) => k === cause.type) ?? "internal";
    return { error: failure(kind, cause.message) };
  }
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.START_TO_CLOSE && opts.harnessStep) return { stopped: "timeout" };
    if (cause.timeoutType === TimeoutType.HEARTBEAT) {
      return { error: failure("internal", "the executor box running this step stopped heartbeating") };
    }
    if (cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
      return {
        error: failure(
          "internal",
          "the executor box holding this run's worktree did not pick up its next step",
        ),
      };
    }
    return { error: failure("timeout", `step timed out (${String(cause.timeoutType)})`) };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { error: failure("internal", message) };
}

function failure(kind: FailureKind, message: string): Failure {
  return { kind, message: message.slice(0, 4000) };
}
