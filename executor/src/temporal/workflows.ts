// The Temporal workflow of one claimed run. Sandboxed: it imports only pure modules, and the
// activities' types, never their code.
import type { Phase } from "@mtor/schema";
import {
  ActivityCancellationType,
  CancellationScope,
  CancelledFailure,
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
} from "@temporalio/workflow";
import { runSteps } from "../engine/run-steps";
import type { StopReason } from "../engine/verdict";
import type { TemporalActivities } from "./activities";
import { activitySteps, type BoxStep } from "./activity-steps";
import {
  DEFAULT_TIMING,
  PHASE_QUERY,
  RESULT_QUERY,
  type SpecRunInput,
  type SpecRunResult,
  STOP_SIGNAL,
  type StepTiming,
} from "./shared";

export const stopSignal = defineSignal<[StopReason]>(STOP_SIGNAL);
export const phaseQuery = defineQuery<Phase>(PHASE_QUERY);
export const resultQuery = defineQuery<SpecRunResult | null>(RESULT_QUERY);

/** The step activities that must not be retried because they are not idempotent. */
const ONCE = { maximumAttempts: 1 };

export async function specRun(input: SpecRunInput): Promise<SpecRunResult> {
  const { run } = input;
  const timing: StepTiming = { ...DEFAULT_TIMING, ...input.timing };
  const retry = {
    maximumAttempts: timing.maxAttempts,
    initialInterval: timing.initialRetryMs,
    backoffCoefficient: 2,
    maximumInterval: 60_000,
  };

  let phase: Phase = "claimed";
  let stopReason: StopReason | undefined;
  let signalled = false;
  const steps = new CancellationScope();
  let final: SpecRunResult | null = null;
  setHandler(phaseQuery, () => phase);
  setHandler(resultQuery, () => final);
  setHandler(stopSignal, (reason) => {
    stopReason ??= reason;
    signalled = true;
    steps.cancel();
  });

  // prepareWorktree and reportVerdict run on the provider's queue (any box); the other steps
  // on the queue of the box that holds the worktree.
  // A stopped step is waited for until its activity has really stopped (its harness killed)
  // before the verdict and the cleanup, as the local engine does.
  const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
  const shared = proxyActivities<TemporalActivities>({
    startToCloseTimeout: timing.stepTimeoutMs,
    heartbeatTimeout: timing.heartbeatTimeoutMs,
    retry,
    cancellationType,
  });
  const specTimeoutMs = run.spec.timeout_s * 1000;
  const startToClose: Record<BoxStep, number> = {
    preflight: timing.stepTimeoutMs,
    // The spec's timeout is the harness's start-to-close.
    runHarness: specTimeoutMs,
    checkOrigin: timing.stepTimeoutMs,
    runGates: Math.max(specTimeoutMs, timing.stepTimeoutMs),
    pushBranch: timing.stepTimeoutMs,
    cleanup: timing.stepTimeoutMs,
  };
  const routed = activitySteps({
    shared,
    pause: (ms) => sleep(ms),
    onBox: (step, taskQueue) =>
      proxyActivities<TemporalActivities>({
        taskQueue,
        scheduleToStartTimeout: timing.boxStartTimeoutMs,
        startToCloseTimeout: startToClose[step],
        // cleanup is short and does not heartbeat; every other step heartbeats all along.
        heartbeatTimeout: step === "cleanup" ? undefined : timing.heartbeatTimeoutMs,
        cancellationType,
        // A harness attempt spends tokens and commits: a crashed one is not re-run here; the
        // control plane retries the spec as a new attempt.
        retry: step === "runHarness" ? ONCE : retry,
      }),
  });

  // The spec's timeout covers the whole attempt, whatever step it is in (as in the local engine).
  const attemptTimer = new CancellationScope();
  attemptTimer
    .run(() => sleep(specTimeoutMs))
    .then(() => {
      stopReason ??= "timeout";
      steps.cancel();
    })
    .catch(() => undefined);

  const result = await steps.run(() =>
    runSteps(routed.calls, run, {
      now: () => Date.now(),
      classify: (err) => routed.classify(err, stopReason),
      stopped: () => stopReason,
      onPhase: (p) => {
        phase = p;
      },
      shielded: (fn) => CancellationScope.nonCancellable(fn),
    }),
  );

  attemptTimer.cancel();

  const out: SpecRunResult = {
    verdict: result.verdict,
    report: result.report,
    stopped: result.stopped,
    boxQueue: routed.boxQueue(),
  };
  final = out;
  // Stopped from outside (a stopper signals its reason, then cancels): end as cancelled, after
  // the verdict and the cleanup above; the result stays readable with the result query. A
  // cancel request may trail the stop signal; give it a moment so the workflow ends cancelled.
  const root = CancellationScope.current();
  if (signalled && !root.consideredCancelled)
    await condition(() => root.consideredCancelled, 1000).catch(() => false);
  if (root.consideredCancelled) {
    throw new CancelledFailure(`run ${run.run_id} stopped: ${result.stopped ?? "canceled"}`);
  }
  return out;
}
