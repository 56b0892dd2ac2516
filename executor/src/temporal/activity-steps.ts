// The workflow's view of the steps: which queue each activity runs on (the first on the
// provider's queue, the rest on the box holding the worktree) and how non-retryable outcome
// failures turn back into step outcomes. Pure: the workflow bundle imports it, and tests drive
// the same code over activities run in MockActivityEnvironment.

import { ActivityFailure, ApplicationFailure } from "@temporalio/common";
import type { Classified, StepCalls } from "../engine/run-steps";
import type { GateOutcome, HarnessOutcome, PreflightOutcome } from "../engine/types";
import type { StopReason } from "../engine/verdict";
import type { TemporalActivities } from "./activities";
import { classifyStepError, outcomeOf } from "./failures";
import { FAILURE_TYPE } from "./shared";

/** The steps that run on the box holding the run's worktree. */
export type BoxStep = "preflight" | "runHarness" | "checkOrigin" | "runGates" | "pushBranch" | "cleanup";

export interface ActivityRoutes {
  /** Activities on the provider's queue (any box serving it). */
  shared: Pick<TemporalActivities, "prepareWorktree" | "reportVerdict">;
  /** Activities on `boxQueue`, with the timeouts and retries of `step`. */
  onBox(step: BoxStep, boxQueue: string): TemporalActivities;
  /** Waits before offering a run again when every box that took it was full (workflow: sleep). */
  pause(ms: number): Promise<void>;
}

/** First wait after a `box_busy` prepare, doubling up to BUSY_MAX_MS. */
export const BUSY_FIRST_MS = 2_000;
export const BUSY_MAX_MS = 30_000;

function isBoxBusy(err: unknown): boolean {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === FAILURE_TYPE.boxBusy;
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
  // The preflight runs on the box that prepared the worktree, so it waits for that box.
  let placed!: (queue: string) => void;
  let notPlaced!: (err: unknown) => void;
  const boxKnown = new Promise<string>((resolve, reject) => {
    placed = resolve;
    notPlaced = reject;
  });
  boxKnown.catch(() => undefined);
  let inHarness = false;
  const on = (step: BoxStep): TemporalActivities => {
    if (!box) throw new Error(`${step} before prepareWorktree`);
    return routes.onBox(step, box);
  };
  // Activities return outcomes as values; a history recorded before they did carries them as
  // non-retryable failures, which still read back as the outcome.
  const outcomeOr = <T>(err: unknown): T => {
    const outcome = outcomeOf<T>(err);
    if (outcome === undefined) throw err;
    return outcome;
  };

  const calls: StepCalls = {
    async prepareWorktree(run) {
      // A full box refuses at once; the run is offered again (any box may take it) until one
      // has room, or the attempt's timer stops the run.
      for (let wait = BUSY_FIRST_MS; ; wait = Math.min(wait * 2, BUSY_MAX_MS)) {
        try {
          const onBox = await routes.shared.prepareWorktree(run);
          box = onBox.boxQueue;
          placed(onBox.boxQueue);
          return onBox.prepared;
        } catch (err) {
          if (!isBoxBusy(err)) {
            notPlaced(err);
            throw err;
          }
          await routes.pause(wait);
        }
      }
    },
    preflight: (run) =>
      boxKnown.then((queue) =>
        routes
          .onBox("preflight", queue)
          .preflight(run)
          .catch((e: unknown) => outcomeOr<PreflightOutcome>(e)),
      ),
    // Not before the preflight passed: a promise cannot cross to the box's activity to hold it.
    async runHarness(run, p, cleared) {
      await cleared;
      inHarness = true;
      try {
        return await on("runHarness")
          .runHarness(run, p)
          .catch((e: unknown) => outcomeOr<HarnessOutcome>(e));
      } finally {
        inHarness = false;
      }
    },
    checkOrigin: (run, p) => on("checkOrigin").checkOrigin(run, p),
    // The workflow runs the check first: the gates' activity needs base's tip as a value.
    runGates: async (run, p, h, origin) => {
      const { baseTip } = await origin;
      return on("runGates")
        .runGates(run, p, h, baseTip)
        .catch((e: unknown) => outcomeOr<GateOutcome>(e));
    },
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
