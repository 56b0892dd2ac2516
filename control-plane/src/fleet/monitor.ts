// One monitor pass, run by the cron trigger through Fleet.monitorPass(). Idempotent
// and bounded: each step touches at most a batch of rows through an index.
import type { Db, Deps } from "../core/db";
import { purgeIdempotency } from "./idempotency";
import { expireLeases, requeueDue } from "./leases";
import { purgeNonces } from "./nonces";
import { halfOpenBreakers } from "./providers";

export interface MonitorResult {
  at: number;
  expired_leases: number;
  requeued: number;
  half_opened: number;
}

/** Runs inside one transaction; the caller wakes waiting claims when anything moved. */
export function monitorPass(tx: Db, deps: Deps): MonitorResult {
  const now = deps.now();
  const result: MonitorResult = {
    at: now,
    expired_leases: expireLeases(tx, deps),
    requeued: requeueDue(tx, deps),
    half_opened: halfOpenBreakers(tx, now),
  };
  purgeNonces(tx, now);
  purgeIdempotency(tx, now);
  return result;
}

export const monitorChangedAnything = (r: MonitorResult): boolean =>
  r.expired_leases + r.requeued + r.half_opened > 0;
