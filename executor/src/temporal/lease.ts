// The lease heartbeat as the Temporal engine uses it: one call, one plain answer.
import { type ClaimedRun, type ExecutorClient, type Load, type Phase, TransportError } from "@mtor/schema";
import type { LeaseState } from "./activities";

/**
 * Renews a run's lease through the executor's signed heartbeat call. `cancel: true` (an operator
 * kill) and 409/404/410 (the lease is gone) stop the run; an unreachable control plane does not:
 * the lease may still hold, and the next heartbeat tries again.
 */
export function leaseRenewer(
  client: Pick<ExecutorClient, "heartbeat">,
  load: () => Load,
  log: (line: string) => void = () => {},
): (run: ClaimedRun, phase: Phase, progress?: string) => Promise<LeaseState> {
  return async (run, phase, progress) => {
    try {
      const res = await client.heartbeat(run.run_id, {
        token: run.lease.token,
        phase,
        load: load(),
        progress,
      });
      if (res.ok) return res.data.cancel ? "cancel" : "held";
      if (res.status === 409 || res.status === 404 || res.status === 410) return "lost";
      log(`run ${run.spec_id}-${run.attempt} heartbeat: ${res.status} ${res.error.code}`);
      return "unreachable";
    } catch (err) {
      log(
        `run ${run.spec_id}-${run.attempt} heartbeat: ${err instanceof TransportError ? "control plane unreachable" : (err as Error).message}`,
      );
      return "unreachable";
    }
  };
}
