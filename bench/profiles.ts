// The night's fault profiles and the two policies the night benchmark runs on the same code:
// mtor's (today's defaults) and the seed's (fixed slots, no breaker, a fixed 30 s retry, a lease
// that lasts the 2 h timeout, a monitor every 15 minutes, a dead executor left dead until
// morning). Everything is on one clock: a night-minute is REAL_MS_PER_NIGHT_MIN of real time,
// and the control plane's clock, the demo providers' clocks and every timing run at NIGHT_RATE.
import { seededRandom } from "../executor/src/demo/faults";

/**
 * A 30-minute task takes 6 s of real time. Faster would be cheaper, but a run's fixed real cost
 * (workspace, sandbox, preflight, gates, push: several seconds on a loaded box) would then pass
 * the 2 h timeout in night terms.
 */
export const REAL_MS_PER_NIGHT_MIN = 200;
/** The one clock's rate: night time ÷ real time. */
export const NIGHT_RATE = 60_000 / REAL_MS_PER_NIGHT_MIN;
/**
 * The chaos runs keep their own slower clock (bench/chaos.ts); the night benchmark uses
 * NIGHT_RATE for everything.
 */
export const CONTROL_PLANE_RATE = 30;

/**
 * Real-time floors, the only timings not scaled: an executor on a loaded box cannot heartbeat
 * every 100 ms (30 s ÷ 300), so it heartbeats every 0.5 s, and a lease (90 s ÷ 300 = 0.3 s) and
 * a fresh claim's pickup window (10 s ÷ 300) last 4 s (with 2 s a loaded box lost leases to late
 * heartbeats). Both policies get them. They only matter when an executor dies, and then they
 * delay mtor's requeue (20 night-minutes instead of 1.5): they favour the baseline.
 */
export const HEARTBEAT_REAL_S = 0.5;
export const LEASE_FLOOR_REAL_S = 4;
/**
 * The executor's preflight limit (60 s by default) is floored the same way: 60 s ÷ 300 is 0.2 s,
 * less than the agent's own start on a loaded box. A preflight that hangs therefore holds its
 * slot for 20 night-minutes before it fails, under both policies.
 */
export const PREFLIGHT_TIMEOUT_REAL_S = 4;

export type PolicyName = "mtor" | "seed";

export interface Policy {
  name: PolicyName;
  /** The control plane's vars (docs/operations.md, "Timings and policy"), in night seconds. */
  vars: Record<string, string>;
  /** The cron's cadence: one monitor pass every this many night-minutes. */
  monitorEveryMin: number;
  /** A SIGKILLed executor is started again at once (systemd's Restart=always), or not that night. */
  restartKilled: boolean;
  /**
   * The executor's config (docs/executor.md): how many more times a failed preflight is tried
   * in the same slot, the wait before each try (night seconds), and whether a harness looping
   * on commits is stopped at the commit_flood cap.
   */
  executor: { preflightRetries: number; preflightRetryS: number; stopRunaways: boolean };
}

const floorS = Math.round(LEASE_FLOOR_REAL_S * NIGHT_RATE);

export const POLICIES: Record<PolicyName, Policy> = {
  mtor: {
    name: "mtor",
    // Today's defaults except the lease and pickup floors.
    vars: {
      MTOR_LEASE_TTL_S: String(Math.max(90, floorS)),
      MTOR_PICKUP_S: String(Math.max(10, floorS)),
      MTOR_BACKOFF_BASE_S: "60",
      MTOR_BACKOFF_CAP_S: "1800",
      MTOR_BREAKER_COOLDOWN_BASE_S: "300",
      MTOR_BREAKER_COOLDOWN_CAP_S: "3600",
      MTOR_SLOT_FEEDBACK: "on",
      MTOR_BREAKER: "on",
    },
    monitorEveryMin: 1,
    restartKilled: true,
    // A failed preflight fails the run at once: the slot is free and the breaker counts it.
    // A model looping on commits is stopped at the commit_flood cap (stop_runaways, the default).
    executor: { preflightRetries: 0, preflightRetryS: 30, stopRunaways: true },
  },
  seed: {
    name: "seed",
    vars: {
      // No lease to speak of: a dead executor's task holds its slot until the 2 h timeout.
      MTOR_LEASE_TTL_S: String(2 * 3600),
      MTOR_PICKUP_S: String(Math.max(10, floorS)),
      // A failed preflight retried every 30 s.
      MTOR_BACKOFF_BASE_S: "30",
      MTOR_BACKOFF_CAP_S: "30",
      MTOR_SLOT_FEEDBACK: "off",
      MTOR_BREAKER: "off",
    },
    monitorEveryMin: 15,
    restartKilled: false,
    // The seed's executor retried a failing preflight every 30 s in the same slot, until the
    // run's 2 h timeout ended it.
    // A model looping on tests ran until the timeout.
    executor: { preflightRetries: 1000, preflightRetryS: 30, stopRunaways: false },
  },
};

export type ProfileName = "fault-free" | "mild" | "seed-night";

export interface ProviderFaults {
  name: string;
  slots: number;
  /** Preflights fail with this probability between these night-minutes. */
  preflightFailRate?: number;
  preflightFailFromMin?: number;
  preflightFailUntilMin?: number;
  /** How those preflights fail: 529 at once (default), or no answer at all until the timeout. */
  preflightFailMode?: "overloaded" | "hang";
  /** Every request answers 429 between these night-minutes; Retry-After counts down to the end. */
  rateLimitFromMin?: number;
  rateLimitUntilMin?: number;
}

export interface NightProfile {
  name: ProfileName;
  /** The night's window in night-minutes: what lands inside it counts. */
  windowMin: number;
  /** Wall-clock label of the window's start (for the pictures). */
  startsAt: string;
  specs: number;
  /** Task durations in night-minutes, drawn uniformly from this range. */
  durationMin: [number, number];
  providers: ProviderFaults[];
  /** One executor is SIGKILLed at this night-minute (null: none). */
  killAtMin: number | null;
  /** Specs (by index) whose model loops adding tests until stopped. */
  loopSpecs: number[];
  /** Specs (by index) whose model deletes a function the spec never asked to remove. */
  deleteSpecs: number[];
  seed: number;
}

const PROVIDERS = ["flaky", "limited", "steady"];

/**
 * quick: a 40-minute window (a smoke test: few runs end inside it); full: 23:00 to 03:00. Event times are fractions of the window, so the
 * quick night is the full one shrunk.
 */
export function nightProfile(name: ProfileName, quick: boolean): NightProfile {
  const windowMin = quick ? 40 : 240;
  const at = (fraction: number) => Math.round(windowMin * fraction);
  const slots = 2;
  const durationMin: [number, number] = [20, 40];
  // Enough specs that the queue never runs dry even fault-free.
  const specs = Math.ceil((PROVIDERS.length * slots * windowMin) / durationMin[0]) + 4;
  const base = {
    name,
    windowMin,
    startsAt: "23:00",
    specs,
    durationMin,
    seed: 8,
    loopSpecs: [] as number[],
    deleteSpecs: [] as number[],
  };
  const plain = PROVIDERS.map((p) => ({ name: p, slots }));
  if (name === "fault-free") return { ...base, providers: plain, killAtMin: null };
  if (name === "mild") {
    // Today's profile: a flaky provider for the first third, a 429 window, one executor killed.
    return {
      ...base,
      killAtMin: at(1 / 2),
      providers: [
        {
          name: "flaky",
          slots,
          preflightFailRate: 0.8,
          preflightFailFromMin: 0,
          preflightFailUntilMin: at(1 / 3),
        },
        { name: "limited", slots, rateLimitFromMin: at(1 / 4), rateLimitUntilMin: at(1 / 2) },
        { name: "steady", slots },
      ],
    };
  }
  // What the seed lived through, from 23:00: a provider whose preflight silently breaks (no answer
  // until the executor gives up) from 23:30 to the night's end, an executor dead at 01:00, a model looping on tests, a 429 storm from
  // 01:30 to 02:30, and a spec whose model deletes a function.
  return {
    ...base,
    killAtMin: at(2 / 4),
    loopSpecs: [3],
    deleteSpecs: [7],
    providers: [
      {
        name: "flaky",
        slots,
        preflightFailRate: 1,
        preflightFailMode: "hang",
        preflightFailFromMin: at(0.5 / 4),
        preflightFailUntilMin: at(1),
      },
      { name: "limited", slots, rateLimitFromMin: at(2.5 / 4), rateLimitUntilMin: at(3.5 / 4) },
      { name: "steady", slots },
    ],
  };
}

/** The specs' task durations (night-minutes), the same for every policy and profile. */
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
