// Where a night's slot-time went, from the control plane's own run records: one formula for
// both policies. Available slot-time is every provider slot over the window, less the time a
// provider could serve nobody (its scripted outage: a preflight that fails every time, a 429
// storm), except what a run still did usefully on it then, after its preflight passed. Useful is
// the window's share of the runs that passed, less what they spent inside an outage before their
// preflight passed. What is neither is a failed run's time (by failure kind), a run cut by the
// end of the drain, or an idle slot, split by why it was idle as the providers were sampled.
import type { ProviderView, SpecDetail } from "@mtor/schema";
import type { NightProfile } from "./profiles";

/** One run's span on the night's clock, for the slot timeline. */
export interface NightRun {
  spec: number;
  provider: string;
  executor: string;
  from_min: number;
  to_min: number;
  outcome: string;
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

/** The night-minute intervals in which each provider could serve nobody, inside the window. */
export function outages(profile: NightProfile): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const p of profile.providers) {
    const list: [number, number][] = [];
    if ((p.preflightFailRate ?? 0) >= 1)
      list.push([p.preflightFailFromMin ?? 0, p.preflightFailUntilMin ?? profile.windowMin]);
    if (p.rateLimitFromMin !== undefined && p.rateLimitUntilMin !== undefined)
      list.push([p.rateLimitFromMin, p.rateLimitUntilMin]);
    out.set(
      p.name,
      list.map(([a, b]) => [Math.max(0, a), Math.min(profile.windowMin, b)] as [number, number]),
    );
  }
  return out;
}

/** Whether `provider` is inside one of its outages at night-minute `m`. */
export function isDown(down: Map<string, [number, number][]>, provider: string, m: number): boolean {
  return (down.get(provider) ?? []).some(([a, b]) => m >= a && m < b);
}

/** How much of [from, to) lies inside the intervals (which do not overlap each other much). */
function overlap(from: number, to: number, intervals: [number, number][]): number {
  let n = 0;
  for (const [a, b] of intervals) n += Math.max(0, Math.min(to, b) - Math.max(from, a));
  return Math.min(n, Math.max(0, to - from));
}

/**
 * Why a sampled provider's free slots were free, first match wins: cooling after a 429, the
 * breaker open (or half-open with its trial in flight), the effective slots halved by bad runs,
 * no executor slot free, or none of those (the slot was free and nobody had claimed it yet).
 */
export function idleReason(v: ProviderView, executorSlotsFree: number): string {
  if (!v.enabled || v.frozen) return "idle: provider off";
  if (v.cooling) return "idle: cooling after a 429";
  if (v.breaker.state === "open" || v.breaker.state === "half_open") return "idle: breaker open";
  if (v.in_use >= v.effective_slots) return "idle: slots halved by bad runs";
  if (executorSlotsFree <= 0) return "idle: no executor slot free";
  return "idle: free, not yet claimed";
}

export interface SlotAccount {
  runs: NightRun[];
  landedAt: number[];
  rateLimited: number;
  /** Every provider slot over the window. */
  all: number;
  available: number;
  useful: number;
  task: number;
  wasted: Record<string, number>;
}

const LANDED = new Set(["awaiting_review", "approved"]);

export function accountSlots(opts: {
  profile: NightProfile;
  /** Each spec's task duration in night-minutes, by spec index. */
  durations: number[];
  details: SpecDetail[];
  index: Map<string, number>;
  /** Maps a control-plane timestamp to the night's minute. */
  toMin: (iso: string) => number;
  /** Idle slot samples by reason (idleReason), outside outages and inside the window. */
  idleSamples: Record<string, number>;
}): SlotAccount {
  const { profile, durations, details, index, toMin } = opts;
  const W = profile.windowMin;
  const down = outages(profile);
  const runs: NightRun[] = [];
  const landedAt: number[] = [];
  const wasted: Record<string, number> = {};
  let useful = 0;
  let usefulWhileDown = 0;
  let task = 0;
  let rateLimited = 0;
  /** Slot-time of runs outside their provider's outages, per provider. */
  const busyUp = new Map<string, number>();
  for (const s of details) {
    const i = index.get(s.id) as number;
    for (const r of s.runs) {
      const from = Math.max(0, toMin(r.claimed_at));
      const to = Math.min(W, r.finished_at ? toMin(r.finished_at) : W);
      const span = Math.max(0, to - from);
      const inOutage = overlap(from, to, down.get(r.provider) ?? []);
      busyUp.set(r.provider, (busyUp.get(r.provider) ?? 0) + span - inOutage);
      const passed = r.outcome === "passed" && r.finished_at !== null;
      if (r.failure?.kind === "rate_limited") rateLimited++;
      const outcome = passed
        ? "passed"
        : r.finished_at === null
          ? "unfinished"
          : (r.failure?.kind ?? r.outcome ?? "failed");
      runs.push({
        spec: i,
        provider: r.provider,
        executor: r.executor,
        from_min: round(from),
        to_min: round(to),
        outcome,
      });
      if (passed) {
        // Only what the run did once its preflight had passed counts inside an outage: a run
        // that waited out a 429 storm retrying its preflight did nothing useful until it ended.
        const started = r.started_at ? Math.min(to, Math.max(from, toMin(r.started_at))) : from;
        const waitedDown = overlap(from, started, down.get(r.provider) ?? []);
        useful += span - waitedDown;
        usefulWhileDown += inOutage - waitedDown;
        task += Math.min(span - waitedDown, durations[i] as number);
      } else if (span - inOutage > 0) {
        // A failed run's time during its provider's outage is not available time: not lost either.
        const cause = `run ${outcome}`;
        wasted[cause] = (wasted[cause] ?? 0) + span - inOutage;
      }
    }
    const passedRun = s.runs.find((r) => r.outcome === "passed" && r.finished_at);
    if (passedRun && LANDED.has(s.status) && toMin(passedRun.finished_at as string) <= W)
      landedAt.push(round(toMin(passedRun.finished_at as string)));
  }
  let all = 0;
  let up = 0;
  let idle = 0;
  for (const p of profile.providers) {
    const slotTime = p.slots * W;
    const upTime = slotTime - p.slots * overlap(0, W, down.get(p.name) ?? []);
    all += slotTime;
    up += upTime;
    idle += Math.max(0, upTime - (busyUp.get(p.name) ?? 0));
  }
  // The exact idle slot-time, split in the proportions the samples saw.
  const samples = Object.values(opts.idleSamples).reduce((a, b) => a + b, 0);
  if (samples > 0) {
    for (const [why, n] of Object.entries(opts.idleSamples))
      wasted[why] = (wasted[why] ?? 0) + (idle * n) / samples;
  } else if (idle > 0) {
    wasted["idle: free, not yet claimed"] = idle;
  }
  landedAt.sort((a, b) => a - b);
  return { runs, landedAt, rateLimited, all, available: up + usefulWhileDown, useful, task, wasted };
}
