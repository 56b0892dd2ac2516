// The test build's clock: tests pin it to drive leases and backoff without waiting; benchmarks
// make it run faster than real time (a rate) to compress a night. Unpinned, it is real time.
import type { Clock } from "../../src/core/clock";

export class TestClock implements Clock {
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

  /** Stopped by a test (not merely running fast). */
  isStopped(): boolean {
    return this.pinned !== null && this.rate === null;
  }

  /** Running at a rate: executors still sign with real time. */
  isScaled(): boolean {
    return this.pinned !== null && this.rate !== null;
  }
}
