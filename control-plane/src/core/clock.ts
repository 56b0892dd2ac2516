// The Fleet's one clock, injected so the test build can swap in one it drives (leases and
// backoff elapse without waiting) or one that runs faster than real time (a compressed night).
export interface Clock {
  now(): number;
  /** How much real time `ms` of this clock takes. */
  realDelay(ms: number): number;
}

/** Real time: what every deployment runs on. */
export const systemClock: Clock = {
  now: () => Date.now(),
  realDelay: (ms) => Math.max(0, ms),
};

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));
