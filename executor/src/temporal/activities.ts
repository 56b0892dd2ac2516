// The run's steps as Temporal activities: the very functions of `createActivities(deps)`, with
// their StepHooks taken from the activity Context. Heartbeats also renew the control-plane
// lease; a lost lease or a kill aborts the step and stops the workflow. Business outcomes
// (preflight failed, harness failed, gates rejected) are returned as values; activities throw
// only for stops and infrastructure errors.
import type { ClaimedRun, Phase } from "@mtor/schema";
import { Context } from "@temporalio/activity";
import { ApplicationFailure } from "@temporalio/common";
import { StepFailure } from "../engine/activities";
import { LeaseKeeper, type RenewLease } from "../engine/lease";
import type { StepCalls } from "../engine/run-steps";
import type { GateOutcome, HarnessOutcome, PreparedRun, RunActivities, StepHooks } from "../engine/types";
import type { StopReason } from "../engine/verdict";
import { stopFailure } from "./failures";
import { boxQueueFor, FAILURE_TYPE, type PreparedOnBox, workflowIdFor } from "./shared";

export type { LeaseState } from "../engine/lease";

export interface TemporalActivityDeps {
  /** The shared step functions: `createActivities(deps)`. */
  activities: RunActivities;
  /** This box's executor id: names its own task queue. */
  executorId: string;
  taskQueuePrefix: string;
  /** The executor's lease heartbeat (POST /v1/executor/runs/:id/heartbeat). */
  renewLease: RenewLease;
  /** Stops the run's workflow (signal the reason, then cancel); wired to the worker's client. */
  stopRun?(workflowId: string, reason: StopReason): Promise<void>;
  /** Between lease heartbeats; the Temporal heartbeat goes with each. Default 30 s. */
  heartbeatMs?: number;
  /**
   * Runs this box may hold at once per provider (from prepareWorktree to cleanup). A prepare
   * beyond it fails as `box_busy` at once, and the workflow offers the run again to any box.
   * Without it the box takes every run it is given.
   */
  capacity?: Record<string, number>;
  log?: (line: string) => void;
}

/** The steps the workflow calls, except that preparing a worktree also names the box holding it. */
export interface TemporalActivities extends Omit<StepCalls, "prepareWorktree" | "runHarness" | "runGates"> {
  prepareWorktree(run: ClaimedRun): Promise<PreparedOnBox>;
  /** Scheduled by the workflow only once the preflight passed. */
  runHarness(run: ClaimedRun, prepared: PreparedRun): Promise<HarnessOutcome>;
  /** `baseTip`: from the origin check, which the workflow awaits first (a promise cannot cross). */
  runGates(
    run: ClaimedRun,
    prepared: PreparedRun,
    harness: HarnessOutcome,
    baseTip?: string,
  ): Promise<GateOutcome>;
}

/** What an activity sends with `Context.heartbeat` (visible in Temporal's UI). */
export interface HeartbeatDetails {
  phase: Phase;
  progress?: string;
}

export function createTemporalActivities(deps: TemporalActivityDeps): TemporalActivities {
  const inner = deps.activities;
  const log = deps.log ?? (() => {});
  const heartbeatMs = deps.heartbeatMs ?? 30_000;

  // The runs whose worktree is on this box, until their cleanup. A run whose workflow was
  // terminated never cleans up: its place is given back once the run cannot be alive any more.
  const held = new Map<string, { provider: string; until: number }>();
  const admit = (run: ClaimedRun) => {
    const cap = deps.capacity?.[run.provider.name];
    if (cap === undefined || held.has(run.run_id)) return;
    const now = Date.now();
    for (const [id, h] of held) if (h.until < now) held.delete(id);
    const n = [...held.values()].filter((h) => h.provider === run.provider.name).length;
    if (n >= cap) {
      throw ApplicationFailure.create({
        message: `box ${deps.executorId} already holds ${n} ${run.provider.name} run(s), its capacity`,
        type: FAILURE_TYPE.boxBusy,
        nonRetryable: true,
      });
    }
    held.set(run.run_id, {
      provider: run.provider.name,
      until: now + 2 * run.spec.timeout_s * 1000 + 3_600_000,
    });
  };

  /** Runs one step with hooks from the activity Context, a periodic heartbeat and the lease. */
  async function step<T>(
    run: ClaimedRun,
    first: Phase,
    fn: (hooks: StepHooks) => Promise<T>,
    opts: { lease: boolean; leaseFirst?: boolean } = { lease: true },
  ): Promise<T> {
    const ctx = Context.current();
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    const controller = new AbortController();
    const fromTemporal = () => controller.abort(ctx.cancellationSignal.reason);
    ctx.cancellationSignal.addEventListener("abort", fromTemporal, { once: true });

    let phase: Phase = first;
    let progress: string | undefined;
    let stop: StopReason | undefined;

    // The lease, renewed by the one keeper both engines use: at once, on a new phase, and every
    // period while the step works (a harness thinking for minutes included).
    const lease = opts.lease
      ? new LeaseKeeper({
          run,
          renew: deps.renewLease,
          everyMs: heartbeatMs,
          report: () => ({ phase, progress }),
          onStop: (reason) => {
            stop = reason;
            log(
              `run ${run.spec_id}-${run.attempt} ${reason === "lost_lease" ? "lease lost" : "cancelled by the control plane"} during ${phase}`,
            );
            controller.abort(stopFailure(reason));
            void deps.stopRun?.(workflowIdFor(run.run_id), reason).catch((err: Error) => {
              log(`run ${run.spec_id}-${run.attempt} could not stop its workflow: ${err.message}`);
            });
          },
          log,
        })
      : undefined;
    const beat = () =>
      ctx.heartbeat(progress === undefined ? { phase } : ({ phase, progress } satisfies HeartbeatDetails));
    // From the step itself: every call reaches Temporal (which throttles); the lease is renewed
    // at once on a new phase, else by the keeper's period.
    const heartbeat = (p: Phase, prog?: string) => {
      const changed = p !== phase;
      phase = p;
      if (prog !== undefined) progress = prog;
      beat();
      if (changed) void lease?.beat();
    };
    beat();
    lease?.start();
    // Before an irreversible step (the push), the control plane is asked first and answered.
    if (opts.leaseFirst) await lease?.settled();
    // A silent step still heartbeats Temporal.
    const timer = setInterval(beat, heartbeatMs);

    try {
      if (stop) throw stopFailure(stop);
      const out = await fn({ signal: controller.signal, heartbeat });
      if (stop) throw stopFailure(stop);
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      return out;
    } catch (err) {
      if (stop) throw stopFailure(stop);
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      if (err instanceof ApplicationFailure) throw err;
      // git and internal step errors are transient as far as Temporal knows: retried per policy.
      if (err instanceof StepFailure)
        throw ApplicationFailure.create({ message: err.message, type: err.kind });
      const e = err instanceof Error ? err : new Error(String(err));
      throw ApplicationFailure.create({ message: e.message, type: FAILURE_TYPE.internal, cause: e });
    } finally {
      clearInterval(timer);
      void lease?.close();
      ctx.cancellationSignal.removeEventListener("abort", fromTemporal);
    }
  }

  return {
    async prepareWorktree(run) {
      admit(run);
      const prepared = await step(run, "preparing", (hooks) => inner.prepareWorktree(run, hooks)).catch(
        (err: unknown) => {
          held.delete(run.run_id);
          throw err;
        },
      );
      return { prepared, boxQueue: boxQueueFor(deps.taskQueuePrefix, run.provider.name, deps.executorId) };
    },

    // Outcomes are values: a failed preflight, a failed harness and rejecting gates complete
    // their activity with the outcome (the workflow decides); only stops and infrastructure
    // errors fail it.
    preflight: (run) => step(run, "preflight", (hooks) => inner.preflight(run, hooks)),

    runHarness: (run, prepared) => step(run, "harness", (hooks) => inner.runHarness(run, prepared, hooks)),

    checkOrigin: (run, prepared) => step(run, "gates", (hooks) => inner.checkOrigin(run, prepared, hooks)),

    runGates: (run, prepared, harness, baseTip) =>
      step(run, "gates", (hooks) => inner.runGates(run, prepared, harness, hooks, baseTip)),

    // Never push after a lost lease or a kill: the lease is checked right before pushing.
    pushBranch: (run, prepared) =>
      step(run, "pushing", (hooks) => inner.pushBranch(run, prepared, hooks), {
        lease: true,
        leaseFirst: true,
      }),

    // The verdict is the run's last word: reporting heartbeats Temporal but leaves the lease alone,
    // so a lease lost meanwhile cannot abort the report (the control plane answers lease_lost).
    reportVerdict: (run, verdict) =>
      step(run, "reporting", (hooks) => inner.reportVerdict(run, verdict, hooks), { lease: false }),

    // Cleanup renews no lease (the verdict is in) and cannot be stopped halfway.
    async cleanup(run, prepared, keep) {
      try {
        await inner.cleanup(run, prepared, keep);
      } finally {
        held.delete(run.run_id);
      }
    },
  };
}
