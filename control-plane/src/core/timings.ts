// The Fleet's timings and policy switches, read once from the Worker's vars: lease TTL, pickup
// window, retry backoff, breaker cooldown, and whether slot feedback and the breaker act. One
// clock reads them all (the Fleet's), so a benchmark that runs that clock fast scales them all.

export interface FleetTimings {
  /** A heartbeat renews a lease for this long. */
  leaseTtlS: number;
  /** A fresh claim's lease: the executor's first heartbeat must come within it. */
  pickupS: number;
  /** Retry backoff after a failed attempt: the first delay, doubling up to the cap (±20 % jitter). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** The breaker's first cooldown, doubling per failed trial up to the cap. */
  breakerCooldownBaseMs: number;
  breakerCooldownCapMs: number;
  /** Off: a provider keeps its slots however its runs end (no halving after two bad runs). */
  slotFeedback: boolean;
  /** Off: provider-side failures never open the breaker. */
  breaker: boolean;
}

export const DEFAULT_TIMINGS: Readonly<FleetTimings> = {
  leaseTtlS: 90,
  pickupS: 10,
  backoffBaseMs: 60_000,
  backoffCapMs: 30 * 60_000,
  breakerCooldownBaseMs: 5 * 60_000,
  breakerCooldownCapMs: 60 * 60_000,
  slotFeedback: true,
  breaker: true,
};

/** The vars that set each timing; unset keeps the default. */
export interface TimingVars {
  MTOR_LEASE_TTL_S?: string;
  MTOR_PICKUP_S?: string;
  MTOR_BACKOFF_BASE_S?: string;
  MTOR_BACKOFF_CAP_S?: string;
  MTOR_BREAKER_COOLDOWN_BASE_S?: string;
  MTOR_BREAKER_COOLDOWN_CAP_S?: string;
  MTOR_SLOT_FEEDBACK?: string;
  MTOR_BREAKER?: string;
}

function seconds(vars: TimingVars, key: keyof TimingVars, fallback: number): number {
  const raw = vars[key];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${key} must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  }
  return n;
}

function onOff(vars: TimingVars, key: keyof TimingVars, fallback: boolean): boolean {
  const raw = vars[key];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new Error(`${key} must be "on" or "off", not ${JSON.stringify(raw)}`);
}

/** The timings a piece of Fleet logic runs with. */
export const timingsOf = (deps: { timings?: FleetTimings }): FleetTimings => deps.timings ?? DEFAULT_TIMINGS;

/** Reads the timings from the Worker's vars; a malformed value is refused, naming the var. */
export function readTimings(vars: TimingVars): FleetTimings {
  const d = DEFAULT_TIMINGS;
  const t: FleetTimings = {
    leaseTtlS: seconds(vars, "MTOR_LEASE_TTL_S", d.leaseTtlS),
    pickupS: seconds(vars, "MTOR_PICKUP_S", d.pickupS),
    backoffBaseMs: seconds(vars, "MTOR_BACKOFF_BASE_S", d.backoffBaseMs / 1000) * 1000,
    backoffCapMs: seconds(vars, "MTOR_BACKOFF_CAP_S", d.backoffCapMs / 1000) * 1000,
    breakerCooldownBaseMs:
      seconds(vars, "MTOR_BREAKER_COOLDOWN_BASE_S", d.breakerCooldownBaseMs / 1000) * 1000,
    breakerCooldownCapMs: seconds(vars, "MTOR_BREAKER_COOLDOWN_CAP_S", d.breakerCooldownCapMs / 1000) * 1000,
    slotFeedback: onOff(vars, "MTOR_SLOT_FEEDBACK", d.slotFeedback),
    breaker: onOff(vars, "MTOR_BREAKER", d.breaker),
  };
  if (t.backoffCapMs < t.backoffBaseMs)
    throw new Error("MTOR_BACKOFF_CAP_S must not be below MTOR_BACKOFF_BASE_S");
  if (t.breakerCooldownCapMs < t.breakerCooldownBaseMs)
    throw new Error("MTOR_BREAKER_COOLDOWN_CAP_S must not be below MTOR_BREAKER_COOLDOWN_BASE_S");
  return t;
}
