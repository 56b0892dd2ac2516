// The Fleet's one clock. Tests pin it (MTOR_TEST_CLOCK=true) to drive leases and backoff;
// benchmarks make it run faster than real time (a rate) to compress a night.
export class Clock {
  private pinned: number | null = null;
  /** With a rate, the clock runs from `pinned` at `rate` × real time since `pinnedAt`. */
  private rate: number | null = null;
  private pinnedAt = 0;

  now(): number {
    if (this.pinned === null) return Date.now();
    if (this.rate === null) return this.pinned;
    return this.pinned + Math.round((Date.now() - this.pinnedAt) * this.rate);
  }

  pin(ms: number | null, rate: number | null = null): void {
    this.pinned = ms;
    this.rate = ms === null ? null : rate;
    this.pinnedAt = Date.now();
  }

  /** How much real time `ms` of this clock takes (less than `ms` at a benchmark's rate). */
  realDelay(ms: number): number {
    const d = Math.max(0, ms);
    return this.pinned !== null && this.rate ? Math.ceil(d / this.rate) : d;
  }

  /** Stopped by a test (not merely running fast): alarms are parked then. */
  isPinned(): boolean {
    return this.pinned !== null && this.rate === null;
  }

  /** Running at a rate: signatures are still checked against real time, as executors sign. */
  isScaled(): boolean {
    return this.pinned !== null && this.rate !== null;
  }
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));
