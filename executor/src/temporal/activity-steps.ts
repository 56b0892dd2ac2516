// The workflow's view of the steps: which queue each activity runs on (the first on the
// provider's queue, the rest on the box holding the worktree) and how non-retryable outcome
// failures turn back into step outcomes. Pure: the workflow bundle imports it, and tests drive
// the same code over activities run in MockActivityEnvironment.

import type { GateOutcome, HarnessOutcome, PreflightOutcome } from "../engine/types";
import type { StopReason } from "../engine/verdict";
import type { TemporalActivities } from "./activities";
import { classifyStepError, outcomeOf } from "./failures";
import type { Classified, StepCalls } from "./run-steps";

/** The steps that run on the box holding the run's worktree. */
export type BoxStep = "preflight" | "runHarness" | "runGates" | "pushBranch" | "cleanup";

export interface ActivityRoutes {
  /** Activities on the provider's queue (any box serving it). */
  shared: Pick<TemporalActivities, "prepareWorktree" | "reportVerdict">;
  /** Activities on `boxQueue`, with the timeouts and retries of `step`. */
  onBox(step: BoxStep, boxQueue: string): TemporalActivities;
}

export interface ActivitySteps {
  calls: StepCalls;
  /** The queue of the box that prepared the worktree, once it has. */
  boxQueue(): string | undefined;
  /** classifyStepError with what only the routing knows: whether the error came from the harness. */
  classify(err: unknown, stopReason: StopReason | undefined): Classified;
}

export function activitySteps(routes: ActivityRoutes): ActivitySteps {
  let box: string | undefined;
  let inHarness = false;
  const on = (step: BoxStep): TemporalActivities => {
    if (!box) throw new Error(`${step} before prepareWorktree`);
    return routes.onBox(step, box);
  };
  const outcomeOr = <T>(err: unknown): T => {
    const outcome = outcomeOf<T>(err);
    if (outcome === undefined) throw err;
    return outcome;
  };

  const calls: StepCalls = {
    async prepareWorktree(run) {
      const placed = await routes.shared.prepareWorktree(run);
      box = placed.boxQueue;
      return placed.prepared;
    },
    preflight: (run, p) =>
      on("preflight")
        .preflight(run, p)
        .catch((e: unknown) => outcomeOr<PreflightOutcome>(e)),
    async runHarness(run, p) {
      inHarness = true;
      try {
        return await on("runHarness")
          .runHarness(run, p)
          .catch((e: unknown) => outcomeOr<HarnessOutcome>(e));
      } finally {
        inHarness = false;
      }
    },
    runGates: (run, p, h) =>
      on("runGates")
        .runGates(run, p, h)
        .catch((e: unknown) => outcomeOr<GateOutcome>(e)),
    pushBranch: (run, p) => on("pushBranch").pushBranch(run, p),
    reportVerdict: (run, v) => routes.shared.reportVerdict(run, v),
    cleanup: (run, p, keep) => on("cleanup").cleanup(run, p, keep),
  };
  return {
    calls,
    boxQueue: () => box,
    classify: (err, stopReason) => classifyStepError(err, { stopReason, harnessStep: inHarness }),
  };
}
