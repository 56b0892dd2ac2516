// The seed baseline: a discrete-event simulation of the seed pipeline under the same night
// profile and clock (night minutes). No circuit breaker, a failed preflight retried every
// 30 s until the two-hour timeout, no leases (a killed executor's task holds its slot until
// that timeout), no load sensing. The real control plane cannot be configured to behave this
// way, so this one part is simulated; it charges no per-run overhead, which favours it.
import { seededRandom } from "../executor/src/demo/faults";
import { round } from "./lib";
import { type NightProfile, nightProfile, taskDurations } from "./profiles";

export interface BaselineResult {
  mode: "seed-baseline";
  specs: number;
  landed: number;
  night_min: number;
  landed_per_hour: number;
  efficiency: number;
  useful_slot_min: number;
  available_slot_min: number;
  wasted_slot_min: Record<string, number>;
}

const PREFLIGHT_RETRY_MIN = 0.5;
const TIMEOUT_MIN = 120;

interface Slot {
  provider: string;
  executor: number;
  freeAt: number;
}

/**
 * `overheadMin`: night minutes each run spends outside the task (worktree, agent start, gates,
 * push), taken from the real night measured in the same bench run, so both pay the same.
 */
export function simulateBaseline(
  profile: NightProfile = nightProfile(false),
  overheadMin = 0,
  opts: { brokenUntilTimeout?: boolean; capMin?: number } = {},
): BaselineResult {
  const capMin = opts.capMin ?? 24 * 60;
  const durations = taskDurations(profile);
  const random = seededRandom(profile.seed);
  const queue = durations.map((d, i) => ({ id: i, duration: d }));
  const slots: Slot[] = profile.providers.flatMap((p) =>
    Array.from({ length: p.slots }, (_, i) => ({
      provider: p.name,
      executor: i % 2 === 0 ? 0 : 1,
      freeAt: 0,
    })),
  );
  const byName = Object.fromEntries(profile.providers.map((p) => [p.name, p]));
  // A task whose first preflight hits the failing provider stays broken while the outage lasts
  // (the seed's retries reached the same broken endpoint); 429s last for their window.
  const firstPreflightOk = (provider: string, t: number): boolean => {
    const p = byName[provider];
    if (!p?.preflightFailRate || t >= (p.preflightFailUntilMin ?? Number.POSITIVE_INFINITY)) return true;
    return random() >= p.preflightFailRate;
  };
  const retryOk = (provider: string, t: number, broken: boolean): boolean => {
    const p = byName[provider];
    if (!p) return true;
    if (
      p.rateLimitFromMin !== undefined &&
      p.rateLimitUntilMin !== undefined &&
      t >= p.rateLimitFromMin &&
      t < p.rateLimitUntilMin
    )
      return false;
    // The seed's own story: a broken preflight burned the whole two-hour timeout.
    if (broken && opts.brokenUntilTimeout) return false;
    return !broken || t >= (p.preflightFailUntilMin ?? Number.POSITIVE_INFINITY);
  };

  let landed = 0;
  let useful = 0;
  let lastStart = 0;
  let end = 0;
  const wasted: Record<string, number> = {};
  const waste = (cause: string, min: number) => {
    wasted[cause] = (wasted[cause] ?? 0) + min;
  };
  // Each step gives the earliest free slot the queue's next task.
  while (queue.length > 0) {
    slots.sort((a, b) => a.freeAt - b.freeAt);
    const slot = slots[0] as Slot;
    const t = slot.freeAt;
    if (t > capMin) break;
    const task = queue.shift() as { id: number; duration: number };
    lastStart = Math.max(lastStart, t);
    // Preflight, retried every 30 s until it passes or the two-hour timeout ends the task.
    let at = t;
    const broken = !firstPreflightOk(slot.provider, t);
    while (!retryOk(slot.provider, at, broken) && at - t < TIMEOUT_MIN) at += PREFLIGHT_RETRY_MIN;
    if (at - t >= TIMEOUT_MIN) {
      waste("preflight retried until timeout", TIMEOUT_MIN);
      slot.freeAt = t + TIMEOUT_MIN;
      queue.push(task);
      continue;
    }
    if (at > t) waste("preflight retries", at - t);
    const done = at + task.duration + overheadMin;
    // The executor killed mid-night: its tasks in flight are only noticed at their timeout.
    if (slot.executor === 0 && at <= profile.killAtMin && done > profile.killAtMin) {
      waste("killed executor's task until timeout", TIMEOUT_MIN);
      slot.freeAt = t + TIMEOUT_MIN;
      queue.push(task);
      continue;
    }
    slot.freeAt = done;
    useful += task.duration + overheadMin;
    landed++;
    end = Math.max(end, done);
  }
  const available = slots.length * Math.max(lastStart, 1);
  return {
    mode: "seed-baseline",
    specs: profile.specs,
    landed,
    night_min: round(end, 1),
    landed_per_hour: round(landed / (end / 60)),
    efficiency: round(Math.min(useful, available) / available, 3),
    useful_slot_min: round(useful, 1),
    available_slot_min: round(available, 1),
    wasted_slot_min: Object.fromEntries(Object.entries(wasted).map(([k, v]) => [k, round(v, 1)])),
  };
}
