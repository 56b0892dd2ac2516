// Cancels runs that outlived their spec's timeout: the run ends as failed (`timeout`), the
// executor is told to stop (its next heartbeat or verdict gets lease_lost), and the spec goes
// through the usual retry-with-backoff or dead path.

import { DEFAULT_TIMEOUT_S, formatDuration } from "@mtor/schema/spec";
import { runs, specs } from "@mtor/schema/tables/fleet";
import type { Failure, FleetSettings } from "@mtor/schema/wire";
import { asc, eq, inArray } from "drizzle-orm";
import type { Db, Deps } from "../core/db";
import { timingsOf } from "../core/timings";
import { chargeRun } from "../fleet/budget";
import { fleetSettings } from "../fleet/controls";
import { failSpec } from "../fleet/leases";
import { ACTIVE_RUN_STATUSES, recordRunEnd } from "../fleet/providers";

/** Active runs are bounded by the fleet's slots; the cap only guards against surprises. */
const ACTIVE_CAP = 1000;

export function cancelTimedOutRuns(tx: Db, deps: Deps): string[] {
  const now = deps.now();
  const active = tx
    .select()
    .from(runs)
    .where(inArray(runs.status, ACTIVE_RUN_STATUSES))
    .orderBy(asc(runs.status), asc(runs.leaseExpiresAt))
    .limit(ACTIVE_CAP)
    .all();
  const canceled: string[] = [];
  let settings: FleetSettings | undefined;
  for (const run of active) {
    const s = tx.select().from(specs).where(eq(specs.id, run.specId)).get();
    const timeoutS = s?.spec.timeout_s ?? DEFAULT_TIMEOUT_S;
    // The timeout is per attempt, and an attempt begins when it is claimed.
    if (now < run.claimedAt + timeoutS * 1000) continue;
    const failure: Failure = {
      kind: "timeout",
      message: `the run passed the spec's timeout of ${formatDuration(timeoutS)} and was canceled by the monitor`,
    };
    tx.update(runs)
      .set({ status: "finished", finishedAt: now, outcome: "failed", failure, cancel: true })
      .where(eq(runs.id, run.id))
      .run();
    // Its verdict will be refused, so what it spent is never reported: it counts at the fallback.
    settings ??= fleetSettings(tx);
    chargeRun(tx, deps.spend, settings, run, null, null);
    recordRunEnd(tx, now, run.provider, timingsOf(deps), {
      outcome: "failed",
      failureKind: "timeout",
      trial: run.trial,
    });
    if (s && s.currentRunId === run.id && (s.status === "leased" || s.status === "running")) {
      failSpec(tx, deps, s, run, failure);
    }
    canceled.push(run.id);
  }
  return canceled;
}
