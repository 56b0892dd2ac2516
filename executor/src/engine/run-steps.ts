// The step sequence of one run, written once for both engines: the local engine (local.ts) drives
// it with the activities in-process, the Temporal workflow with activity proxies. Pure: the
// workflow bundle imports it, so it may import only pure modules and types.
import type { ClaimedRun, Failure, Phase, VerdictRequest } from "@mtor/schema";
import type {
  GateOutcome,
  HarnessOutcome,
  OriginCheck,
  PreflightOutcome,
  PreparedRun,
  PushOutcome,
  ReportOutcome,
} from "./types";
import { type Decision, decideVerdict, type StopReason, verdictRequest } from "./verdict";

/** The steps of a run, each already bound to its engine (hooks supplied by the engine). */
export interface StepCalls {
  prepareWorktree(run: ClaimedRun): Promise<PreparedRun>;
  preflight(run: ClaimedRun): Promise<PreflightOutcome>;
  /**
   * `cleared` settles once the preflight passed and rejects when it did not; the harness may be
   * started before it settles, but must not act before (the local engine's tap holds its
   * requests; Temporal starts the activity after it).
   */
  runHarness(run: ClaimedRun, prepared: PreparedRun, cleared: Promise<void>): Promise<HarnessOutcome>;
  checkOrigin(run: ClaimedRun, prepared: PreparedRun): Promise<OriginCheck>;
  /** `origin`: the origin check running beside the gates (they need base's tip from it). */
  runGates(
    run: ClaimedRun,
    prepared: PreparedRun,
    harness: HarnessOutcome,
    origin: Promise<OriginCheck>,
  ): Promise<GateOutcome>;
  pushBranch(run: ClaimedRun, prepared: PreparedRun): Promise<PushOutcome>;
  reportVerdict(run: ClaimedRun, verdict: VerdictRequest): Promise<ReportOutcome>;
  cleanup(run: ClaimedRun, prepared: PreparedRun, keep: boolean): Promise<void>;
}

export type Classified = { stopped: StopReason } | { error: Failure };

export interface RunStepsOptions {
  /** Milliseconds; the workflow passes its deterministic clock. */
  now(): number;
  /** What a step's thrown error means: the run was stopped, or a failure for the verdict. */
  classify(err: unknown): Classified;
  /** Why the run was stopped from outside, if it was (checked between steps). */
  stopped?(): StopReason | undefined;
  onPhase?(phase: Phase): void;
  /** Runs report and cleanup so that a stop cannot interrupt them (Temporal: nonCancellable). */
  shielded?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Called right before pushing (the local engine asks the control plane whether the lease
   * still holds); a stop it reveals means nothing is pushed.
   */
  beforePush?(): Promise<void>;
}

export interface StepsResult {
  verdict: VerdictRequest;
  report: ReportOutcome;
  stopped?: StopReason;
  prepared?: PreparedRun;
}

/** The most log tail a verdict carries (the local engine's cut, under the wire limit). */

/**
 * prepare and preflight side by side, the harness started as soon as the workspace is ready but
 * held until the preflight passed (dropped when it did not) → the origin check, and
 * beside it the gates (when the harness succeeded) → decide → push (when the decision says so and
 * the run was not stopped; never before the origin check is in, and never when it saw the origin
 * move) → report → cleanup (keeping the workspace when the harness ran and the run did not pass).
 * Every verdict is reported, even after a stop: the control plane refuses a stale lease's verdict
 * itself.
 */
export async function runSteps(
  steps: StepCalls,
  run: ClaimedRun,
  opts: RunStepsOptions,
): Promise<StepsResult> {
  const started = opts.now();
  const shielded = opts.shielded ?? (<T>(fn: () => Promise<T>) => fn());
  const phase = (p: Phase) => opts.onPhase?.(p);
  let stoppedHere: StopReason | undefined;
  const stopped = (): StopReason | undefined => stoppedHere ?? opts.stopped?.();
  const timeoutS = run.spec.timeout_s;

  let prepared: PreparedRun | undefined;
  let preflight: PreflightOutcome | undefined;
  let harness: HarnessOutcome | undefined;
  let origin: OriginCheck | undefined;
  let gates: GateOutcome | undefined;
  let error: Failure | undefined;
  let pushed: PushOutcome | undefined;

  try {
    phase("preparing");
    // The probe needs no workspace: both go at once, and a failing provider costs no more than
    // the slower of the two (the workspace goes back to the pool unused).
    const probing = steps.preflight(run);
    let probeFailed = false;
    const cleared = probing.then(
      (pre) => {
        if (pre.ok) return;
        probeFailed = true;
        throw new Error("the preflight did not pass");
      },
      (err: unknown) => {
        probeFailed = true;
        throw err;
      },
    );
    cleared.catch(() => undefined);
    // The harness needs the workspace, not the probe's answer: it starts once the workspace is
    // ready, so its own start overlaps the probe, but it is `cleared` to act only when the probe
    // passed (its provider tap holds every request until then; a failed probe stops it).
    let harnessing: Promise<HarnessOutcome> | undefined;
    const preparing = steps.prepareWorktree(run).then((ready) => {
      if (!stopped() && !probeFailed) {
        harnessing = steps.runHarness(run, ready, cleared);
        harnessing.catch(() => undefined);
      }
      return ready;
    });
    const [prep, probe] = await Promise.allSettled([preparing, probing]);
    // A harness started and then not cleared is stopped by its hold; it is waited for (so it is
    // gone before its workspace is cleaned up) and what it returned is dropped.
    const dropHarness = () =>
      harnessing?.then(
        () => undefined,
        () => undefined,
      );
    if (prep.status === "fulfilled") prepared = prep.value;
    if (prep.status === "rejected") throw prep.reason;
    if (probe.status === "rejected") {
      await dropHarness();
      throw probe.reason;
    }
    preflight = probe.value;
    // The origin check compares with the listing taken before the probe ran, not the workspace's.
    if (preflight.ok && preflight.originBefore)
      prepared = { ...prep.value, originBefore: preflight.originBefore };
    const p = prepared ?? prep.value;
    if (!preflight.ok) await dropHarness();
    else if (harnessing) {
      if (!stopped()) phase("harness");
      harness = await harnessing;
    }
    const h = harness;
    if (h && !stopped()) {
      // The harness and all it started are gone: the origin is listed once more, and the gates
      // (taking the agent's commits, then checking them) run meanwhile. Both are awaited before
      // anything is decided, so nothing is pushed before the check is in.
      const checking = steps.checkOrigin(run, p);
      checking.catch(() => undefined);
      let gating: Promise<GateOutcome | undefined> = Promise.resolve(undefined);
      if (h.ok) {
        phase("gates");
        gating = steps.runGates(run, p, h, checking);
      }
      const [checked, gated] = await Promise.allSettled([checking, gating]);
      // What the check saw rejects the run even when the gates failed.
      if (checked.status === "fulfilled") origin = checked.value;
      if (gated.status === "fulfilled") gates = gated.value;
      if (checked.status === "rejected") throw checked.reason;
      if (gated.status === "rejected") throw gated.reason;
    }
  } catch (err) {
    const c = opts.classify(err);
    if ("stopped" in c) stoppedHere ??= c.stopped;
    else if (!stopped()) error = c.error;
  }

  let decision: Decision = decideVerdict({
    preflight,
    harness,
    origin,
    gates,
    stopped: stopped(),
    timeoutS,
    error,
  });
  // Never push after a lost lease or a cancel: check again right before pushing.
  if (decision.push && prepared && !stopped() && opts.beforePush) {
    await opts.beforePush();
    if (stopped()) decision = decideVerdict({ stopped: stopped(), timeoutS });
  }
  if (decision.push && prepared && !stopped()) {
    const p = prepared;
    try {
      phase("pushing");
      pushed = await steps.pushBranch(run, p);
    } catch (err) {
      const c = opts.classify(err);
      if ("stopped" in c) stoppedHere ??= c.stopped;
      const pushError: Failure | undefined =
        "error" in c ? { kind: "git", message: `push failed: ${c.error.message}` } : undefined;
      decision = decideVerdict({ stopped: stopped(), error: pushError, timeoutS });
    }
  }

  const verdict = verdictRequest({
    run,
    decision,
    prepared,
    harness,
    gates,
    pushed,
    durationMs: opts.now() - started,
  });
  phase("reporting");
  const report = await shielded(() => steps.reportVerdict(run, verdict)).catch(
    (err: unknown): ReportOutcome => ({
      accepted: false,
      reason: "refused",
      detail: err instanceof Error ? err.message : String(err),
    }),
  );
  if (prepared) {
    const p = prepared;
    const keep = decision.outcome !== "passed" && harness !== undefined;
    await shielded(() => steps.cleanup(run, p, keep)).catch(() => undefined);
  }
  return { verdict, report, stopped: stopped(), prepared };
}
