// The local engine: one run, start to verdict, inside the executor process, through the shared
// runSteps. It keeps the lease alive with heartbeats, aborts the run on cancel, lost lease,
// timeout or drain, confirms the lease before pushing, and always reports a verdict.
import type { ClaimedRun, ExecutorClient, Load, Phase, VerdictRequest } from "@mtor/schema";
import { TransportError } from "@mtor/schema";
import { runLabel, StepFailure, secs } from "./activities";
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
  let beating: Promise<void> | undefined;
  let unreachableSince: number | undefined;
  let finished = false;
  let again = false;
  const beat = async () => {
    // A phase change during a beat in flight is sent right after it, not a period later.
    if (beating) {
      again = true;
      return;
    }
    beating = (async () => {
      try {
        const res = await deps.client.heartbeat(run.run_id, {
          token: run.lease.token,
          phase,
          load: deps.load(),
          progress,
        });
        if (unreachableSince !== undefined) {
          log(`run ${label} heartbeat: control plane back after ${secs(Date.now() - unreachableSince)}`);
          unreachableSince = undefined;
        }
        if (res.ok) {
          if (res.data.cancel && !stoppedBy()) {
            log(`run ${label} cancelled by the control plane`);
            stop("canceled");
          }
        } else if (res.status === 409 || res.status === 404 || res.status === 410) {
          if (!stoppedBy()) log(`run ${label} lease lost (${res.status} ${res.error.code})`);
          stop("lost_lease");
        } else {
          log(`run ${label} heartbeat: ${res.status} ${res.error.code}`);
        }
      } catch (err) {
        // The control plane being away is no reason to stop working: the lease may still hold.
        // Said once per outage, not once per beat.
        if (!(err instanceof TransportError)) log(`run ${label} heartbeat: ${(err as Error).message}`);
        else if (unreachableSince === undefined) {
          unreachableSince = Date.now();
          log(`run ${label} heartbeat: control plane unreachable; the run goes on`);
        }
      } finally {
        beating = undefined;
        if (again && !finished) {
          again = false;
          void beat();
        }
      }
    })();
    await beating;
  };
  /** A heartbeat now, after any in flight, so its answer is known when this resolves. */
  const beatNow = async () => {
    while (beating) await beating;
    await beat();
  };
  const timer = setInterval(() => void beat(), deps.heartbeatMs);
  // The claim's lease is provisional until the first heartbeat: send it at once.
  void beat();
  const hooks = {
    signal,
    heartbeat: (p: Phase, prog?: string) => {
      const changed = p !== phase;
      phase = p;
      if (prog !== undefined) progress = prog;
      if (changed) void beat();
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
    clearInterval(timer);
    finished = true;
    if (beating) await beating;
  };

  log(`run ${label} claimed: ${run.spec.title} [${run.provider.name}]`);
  const steps: StepCalls = {
    prepareWorktree: (r) => timed("worktree", () => acts.prepareWorktree(r, hooks)),
    preflight: (r) => timed("preflight", () => acts.preflight(r, hooks)),
    runHarness: async (r, p) => {
      const h = await timed("harness", () => acts.runHarness(r, p, hooks));
      harnessMs = h.durationMs;
      return h;
    },
    runGates: (r, p, h) => timed("gates", () => acts.runGates(r, p, h, hooks)),
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
      await timed("confirm", beatNow);
    },
  });
  await stopBeating();
  log(
    `run ${label} timings: ${JSON.stringify({ ...timings, harness_process: harnessMs, total: (reportedAt ?? Date.now()) - started })}`,
  );
  return { verdict: result.verdict, report: result.report };
}
