// Retry backoff after a failed attempt: by default 1 min, doubling, capped at 30 min, with
// ±20 % jitter (MTOR_BACKOFF_BASE_S and MTOR_BACKOFF_CAP_S set both ends).
import { DEFAULT_TIMINGS, type FleetTimings } from "../core/timings";

export const BACKOFF_FIRST_MS = DEFAULT_TIMINGS.backoffBaseMs;
export const BACKOFF_MAX_MS = DEFAULT_TIMINGS.backoffCapMs;

/** `failures` counts this spec's failed attempts so far (1 after the first). */
export function backoffMs(
  failures: number,
  random: number,
  t: Pick<FleetTimings, "backoffBaseMs" | "backoffCapMs"> = DEFAULT_TIMINGS,
): number {
  const base = Math.min(t.backoffBaseMs * 2 ** Math.max(0, failures - 1), t.backoffCapMs);
  return Math.round(Math.min(base * (0.8 + 0.4 * random), t.backoffCapMs));
}
