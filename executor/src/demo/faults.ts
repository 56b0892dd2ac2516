// Per-provider fault profiles for benchmarks: the demo provider misbehaves on a schedule
// decided by an injectable clock and a seeded random source, so runs are reproducible.

export interface DemoFaults {
  /** Probability (0..1) that a preflight request answers 529 overloaded. */
  preflightFailRate?: number;
  /** Every preflight answers 529 until this many ms after the provider started. */
  preflightFailUntilMs?: number;
  /**
   * How a failing preflight fails: "overloaded" (default) answers 529; "hang" never answers at
   * all, no status and no byte, until the client gives up (a provider that breaks silently).
   */
  preflightFailMode?: "overloaded" | "hang";
  /** Every request answers 429 until this many ms after start; retry-after counts down to it. */
  rateLimitUntilMs?: number;
  /** Delay before every answer. */
  latencyMs?: number;
  /** A task's turns are spread so the whole task takes about this long. */
  taskDurationMs?: number;
}

export type FaultDecision =
  | { kind: "none"; delayMs: number }
  | { kind: "overloaded"; delayMs: number }
  | { kind: "hang"; delayMs: number }
  | { kind: "rate_limited"; delayMs: number; retryAfterS: number };

/** Mulberry32: a tiny deterministic PRNG, enough for reproducible fault schedules. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultClock {
  now: () => number;
  random: () => number;
  startedAt: number;
}

/** Decides what a fault profile does to one request. */
export function decideFault(
  faults: DemoFaults,
  clock: FaultClock,
  req: { isPreflight: boolean; scriptTurns: number },
): FaultDecision {
  const elapsed = clock.now() - clock.startedAt;
  let delayMs = Math.max(0, faults.latencyMs ?? 0);
  if (faults.rateLimitUntilMs !== undefined && elapsed < faults.rateLimitUntilMs) {
    return {
      kind: "rate_limited",
      delayMs,
      retryAfterS: Math.max(1, Math.ceil((faults.rateLimitUntilMs - elapsed) / 1000)),
    };
  }
  if (req.isPreflight) {
    const fail = faults.preflightFailMode === "hang" ? ("hang" as const) : ("overloaded" as const);
    if (faults.preflightFailUntilMs !== undefined && elapsed < faults.preflightFailUntilMs)
      return { kind: fail, delayMs };
    // Draw only when a rate is set, so adding a rate does not shift other draws.
    if (
      faults.preflightFailRate !== undefined &&
      faults.preflightFailRate > 0 &&
      clock.random() < faults.preflightFailRate
    ) {
      return { kind: fail, delayMs };
    }
    return { kind: "none", delayMs };
  }
  if (faults.taskDurationMs !== undefined && faults.taskDurationMs > 0) {
    delayMs += Math.round(faults.taskDurationMs / Math.max(1, req.scriptTurns));
  }
  return { kind: "none", delayMs };
}
