// The executor side of the Temporal engine: a claimed run becomes the workflow `specRun`
// (id `mtor-<run_id>`, conflict policy use-existing) on its provider's queue. The claiming
// executor keeps the lease alive between steps and stops the workflow when the lease is lost.
import type { ClaimedRun, Phase } from "@mtor/schema";
import { type Client, WorkflowFailedError, type WorkflowHandle } from "@temporalio/client";
import { CancelledFailure, WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { LeaseKeeper, type RenewLease } from "../engine/lease";
import type { RunHandle, RunResult } from "../engine/local";
import type { StopReason } from "../engine/verdict";
import {
  PHASE_QUERY,
  RESULT_QUERY,
  type SpecRunInput,
  type SpecRunResult,
  STOP_SIGNAL,
  type StepTiming,
  taskQueueFor,
  WORKFLOW_TYPE,
  workflowIdFor,
} from "./shared";

export interface TemporalEngineOptions {
  client: Client;
  taskQueuePrefix: string;
  timing?: Partial<StepTiming>;
  /** The lease heartbeat; renewed every heartbeatMs while the workflow runs. */
  renewLease?: RenewLease;
  heartbeatMs?: number;
  log?: (line: string) => void;
}

/** Signals the reason, then cancels: the workflow reports its verdict, cleans up and ends cancelled. */
export async function stopWorkflow(client: Client, workflowId: string, reason: StopReason): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  await handle.signal(STOP_SIGNAL, reason);
  await handle.cancel();
}

export class TemporalEngine {
  constructor(private readonly opts: TemporalEngineOptions) {}

  /** Starts (or attaches to) the run's workflow. A re-claim of the same run never starts a second one. */
  async startWorkflow(run: ClaimedRun): Promise<WorkflowHandle> {
    const { client } = this.opts;
    const workflowId = workflowIdFor(run.run_id);
    const input: SpecRunInput = { run, timing: this.opts.timing };
    try {
      return await client.workflow.start(WORKFLOW_TYPE, {
        workflowId,
        taskQueue: taskQueueFor(this.opts.taskQueuePrefix, run.provider.name),
        args: [input],
        workflowIdConflictPolicy: "USE_EXISTING",
        // A run id is one attempt: once its workflow closed, a re-claim reads that result.
        workflowIdReusePolicy: "REJECT_DUPLICATE",
        staticSummary: `${run.spec_id}-${run.attempt}: ${run.spec.title}`.slice(0, 200),
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
      throw err;
    }
  }

  /** The daemon's runner: the run's handle, done when the workflow has ended. */
  start(run: ClaimedRun): RunHandle {
    const log = this.opts.log ?? (() => {});
    const label = `${run.spec_id}-${run.attempt}`;
    let stopRequested = false;
    const started = this.startWorkflow(run);

    // One stop per run: the first reason (lease lost, kill, drain) is the one the workflow gets.
    const stop = (reason: StopReason) => {
      if (stopRequested) return;
      stopRequested = true;
      void started
        .then((h) => stopWorkflow(this.opts.client, h.workflowId, reason))
        .catch((err: Error) => log(`run ${label} could not stop its workflow: ${err.message}`));
    };

    const done = (async (): Promise<RunResult> => {
      const handle = await started;
      log(
        `run ${label} → workflow ${handle.workflowId} on ${taskQueueFor(this.opts.taskQueuePrefix, run.provider.name)}`,
      );
      const keeper = this.keepLease(run, handle, stop);
      try {
        const result = (await handle.result()) as SpecRunResult;
        return toRunResult(result);
      } catch (err) {
        if (!wasCancelled(err)) throw err;
        // A stopped run ends cancelled, without a return value: read its verdict with the query.
        const r = await handle.query<SpecRunResult | null>(RESULT_QUERY).catch((qerr: Error) => {
          log(`run ${label} workflow cancelled; its result could not be read: ${qerr.message}`);
          return null;
        });
        if (r) return toRunResult(r);
        throw err;
      } finally {
        keeper();
      }
    })();
    return { run, done, stop };
  }

  /** Heartbeats the lease with the workflow's phase until the workflow ends. Returns the stopper. */
  private keepLease(run: ClaimedRun, handle: WorkflowHandle, stop: (r: StopReason) => void): () => void {
    const renew = this.opts.renewLease;
    if (!renew) return () => {};
    let phase: Phase = "claimed";
    const lease = new LeaseKeeper({
      run,
      renew,
      everyMs: this.opts.heartbeatMs ?? 30_000,
      report: async () => {
        phase = await handle.query<Phase>(PHASE_QUERY).catch(() => phase);
        // The verdict is built and being reported (or in): the run is over as far as the lease
        // goes. The control plane answers lease_lost once it has the verdict, and stopping the
        // workflow then would only end a finished run as cancelled.
        return phase === "reporting" ? undefined : { phase };
      },
      onStop: stop,
    }).start();
    return () => void lease.close();
  }
}

function toRunResult(r: SpecRunResult): RunResult {
  return {
    verdict: r.verdict,
    report: r.report ?? { accepted: false, reason: "refused", detail: "no report" },
  };
}

/** Whether the workflow ended cancelled (a stop, or a cancel from Temporal's UI). */
export function wasCancelled(err: unknown): boolean {
  return err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure;
}
