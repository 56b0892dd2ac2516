// The local engine: one run, start to verdict, inside the executor process, through the shared
// runSteps. It keeps the lease alive with heartbeats, aborts the run on cancel, lost lease,
// timeout or drain, confirms the lease before pushing, and always reports a verdict.
import type { ClaimedRun, ExecutorClient, Load, Phase, VerdictRequest } from "@mtor/schema";
import { runLabel, StepFailure, secs } from "./activities";
import { LeaseKeeper, leaseRenewer } from "./lease";
import { runSteps, type StepCalls } from "./run-steps";
import type { ReportOutcome, RunActivities } from "./types";
import type { StopReason } from "./verdict";

export interface LocalEngineDeps {
  activities: RunActivities;
  client: Pick<ExecutorClient, "heartbeat">;
  load: () => Load;
  heartbeatMs: number;
  log?: (line: string) => void;
}

export interface RunResult {
  verdict: VerdictRequest;
  report: ReportOutcome;
}

/** A running run's handle: its outcome, and a way to stop it from outside (drain deadline). */
export interface RunHandle {
  run: ClaimedRun;
  done: Promise<RunResult>;
  stop(reason: StopReason): void;
}

export function startRun(run: ClaimedRun, deps: LocalEngineDeps): RunHandle {
  const controller = new AbortController();
  let stopped: StopReason | undefined;
  const stop = (reason: StopReason) => {
    if (stopped) return;
    stopped = reason;
    controller.abort(new Error(reason));
  };
  return { run, done: execute(run, deps, controller.signal, stop, () => stopped), stop };
}

async function execute(
  run: ClaimedRun,
  deps: LocalEngineDeps,
  signal: AbortSignal,
  stop: (r: StopReason) => void,
  stoppedBy: () => StopReason | undefined,
): Promise<RunResult> {
  const log = deps.log ?? (() => {});
  const acts = deps.activities;
  const label = runLabel(run);
  const started = Date.now();
  let phase: Phase = "claimed";
  let progress: string | undefined;

  // The lease: a heartbeat every heartbeatMs, and one right away at each phase change.
  const lease = new LeaseKeeper({
    run,
    renew: leaseRenewer(deps.client, deps.load, log),
    everyMs: deps.heartbeatMs,
    report: () => ({ phase, progress }),
    onStop: (reason) => {
      if (reason === "canceled" && !stoppedBy()) log(`run ${label} cancelled by the control plane`);
      stop(reason);
    },
    log,
  }).start();
  const hooks = {
    signal,
    heartbeat: (p: Phase, prog?: string) => {
      const changed = p !== phase;
      phase = p;
      if (prog !== undefined) progress = prog;
      if (changed) void lease.beat();
    },
  };

  // The spec's timeout covers the whole attempt up to the push, whatever step it is in.
  const timeoutS = run.spec.timeout_s;
  const deadline = setTimeout(() => {
    log(`run ${label} timeout after ${timeoutS}s`);
    stop("timeout");
  }, timeoutS * 1000);

  // Wall time of each step, logged with the verdict (the benchmark's overhead split).
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[step] = Date.now() - t0;
    }
  };
  let harnessMs: number | undefined;
  // When the verdict was sent: the run's end as the user sees it (cleanup comes after).
  let reportedAt: number | undefined;
  const stopBeating = async () => {
    clearTimeout(deadline);
    await lease.close();
  };

  log(`run ${label} claimed: ${run.spec.title} [${run.provider.name}]`);
  const steps: StepCalls = {
    prepareWorktree: (r) => timed("worktree", () => acts.prepareWorktree(r, hooks)),
    preflight: (r) => timed("preflight", () => acts.preflight(r, hooks)),
    runHarness: async (r, p, cleared) => {
      const h = await timed("harness", () => acts.runHarness(r, p, hooks, cleared));
      harnessMs = h.durationMs;
      // Waiting for the preflight is the run's, not the harness's: the benchmark counts it as overhead.
      timings.harness_held = h.heldMs ?? 0;
      return h;
    },
    checkOrigin: (r, p) => timed("origin_check", () => acts.checkOrigin(r, p, hooks)),
    runGates: (r, p, h, origin) =>
      timed("gates", () =>
        acts.runGates(
          r,
          p,
          h,
          hooks,
          origin.then((o) => o.baseTip),
        ),
      ),
    pushBranch: (r, p) => timed("push", () => acts.pushBranch(r, p, hooks)),
    reportVerdict: async (r, verdict) => {
      // The verdict ends the lease: no heartbeat after it.
      await stopBeating();
      try {
        return await timed("verdict", () => acts.reportVerdict(r, verdict, hooks));
      } catch (err) {
        log(`run ${label} verdict could not be written: ${(err as Error).message}`);
        throw err;
      } finally {
        reportedAt = Date.now();
        log(
          `run ${label} done: ${verdict.outcome}${verdict.failure ? ` (${verdict.failure.kind})` : ""} in ${secs(verdict.duration_ms)}`,
        );
      }
    },
    cleanup: (r, p, keep) =>
      timed("cleanup", () => acts.cleanup(r, p, keep)).catch((err: Error) => {
        log(`run ${label} cleanup: ${err.message}`);
      }),
  };
  const result = await runSteps(steps, run, {
    now: Date.now,
    stopped: stoppedBy,
    classify: (err) => {
      const reason = stoppedBy();
      if (reason) return { stopped: reason };
      const failure =
        err instanceof StepFailure
          ? { kind: err.kind, message: err.message }
          : { kind: "internal" as const, message: (err as Error)?.message ?? String(err) };
      log(`run ${label} ${failure.kind} failure: ${failure.message}`);
      return { error: failure };
    },
    onPhase: (p) => hooks.heartbeat(p),
    // Ask the control plane right before pushing: a lost lease or a cancel pushes nothing.
    beforePush: async () => {
      clearTimeout(deadline);
      phase = "pushing";
      await timed("confirm", () => lease.beatNow());
    },
  });
  await stopBeating();
  log(
    `run ${label} timings: ${JSON.stringify({ ...timings, harness_process: harnessMs, total: (reportedAt ?? Date.now()) - started })}`,
  );
  return { verdict: result.verdict, report: result.report };
}
