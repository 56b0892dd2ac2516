// The night's fault profile, shared by the real overnight run, the seed-baseline simulation and
// the chaos runs: which provider fails when, task durations, and the time compression.
import { seededRandom } from "../executor/src/demo/faults";

/** Task time: a 30-minute task takes 3 s, so one compressed minute is 100 ms of real time. */
export const REAL_MS_PER_NIGHT_MIN = 100;
/**
 * The control plane's clock runs at this rate × real time during a night. It cannot run at the
 * tasks' 600× (a 90 s lease would last 0.15 s, below any heartbeat interval on a loaded box), so
 * its lease, backoff and breaker constants are 20× longer in night terms than in reality.
 */
export const CONTROL_PLANE_RATE = 30;

export interface ProviderProfile {
  name: string;
  slots: number;
  /** Preflights fail with this probability until `preflightFailUntilMin` (night minutes). */
  preflightFailRate?: number;
  preflightFailUntilMin?: number;
  /** Every request answers 429 between these night minutes. */
  rateLimitFromMin?: number;
  rateLimitUntilMin?: number;
}

export interface NightProfile {
  specs: number;
  /** Task durations in night minutes, drawn uniformly from this range. */
  durationMin: [number, number];
  providers: ProviderProfile[];
  /** The night's nominal length (all specs on all slots, no faults) in night minutes. */
  nominalMin: number;
  /** When one executor is SIGKILLed (and restarted right away). */
  killAtMin: number;
  seed: number;
}

export function nightProfile(quick: boolean): NightProfile {
  const specs = quick ? 10 : 40;
  const durationMin: [number, number] = [20, 40];
  const slots = 2;
  const providers = 3;
  const nominalMin = Math.ceil((specs * ((durationMin[0] + durationMin[1]) / 2)) / (slots * providers));
  return {
    specs,
    durationMin,
    nominalMin,
    killAtMin: Math.round(nominalMin / 2),
    seed: 8,
    providers: [
      { name: "flaky", slots, preflightFailRate: 0.8, preflightFailUntilMin: Math.round(nominalMin / 3) },
      {
        name: "limited",
        slots,
        rateLimitFromMin: Math.round(nominalMin / 4),
        rateLimitUntilMin: Math.round(nominalMin / 2),
      },
      { name: "steady", slots },
    ],
  };
}

/** The specs' task durations (night minutes), the same for mtor and the baseline. */
export function taskDurations(p: NightProfile): number[] {
  const random = seededRandom(p.seed);
  return Array.from({ length: p.specs }, () =>
    Math.round(p.durationMin[0] + random() * (p.durationMin[1] - p.durationMin[0])),
  );
}

export const nightMinToRealMs = (min: number): number => min * REAL_MS_PER_NIGHT_MIN;
export const realMsToNightMin = (ms: number): number => ms / REAL_MS_PER_NIGHT_MIN;

/** A seeded random source for fault choices (which executor, when). */
export const seededRandomFor = (seed: number): (() => number) => seededRandom(seed);
