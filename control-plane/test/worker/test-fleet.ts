// The test build's Fleet: the production Fleet on a clock tests can pin or speed up, plus the
// bulk seeding benchmarks use. Only the test Worker entry (index.ts beside this) exports it.
import type { Result } from "../../src/errors";
import { Fleet } from "../../src/fleet/fleet";
import { type BenchSeedInput, benchSeed } from "./bench-seed";
import { TestClock } from "./test-clock";

export class TestFleet extends Fleet {
  private readonly testClock: TestClock;

  constructor(ctx: DurableObjectState, env: Env) {
    const clock = new TestClock();
    super(ctx, env, clock);
    this.testClock = clock;
  }

  /** Pins the clock at `ms` (null: real time again); with a rate it runs from `ms` at rate × real time. */
  async setClock(ms: number | null, rate: number | null = null): Promise<Result<number>> {
    this.testClock.pin(ms, rate);
    return { ok: true, value: this.clock.now() };
  }

  /** Fills the queue with copies of a template spec and the history with finished specs. */
  async benchSeed(input: BenchSeedInput): Promise<Result<{ specs: number }>> {
    const seeded = benchSeed(this.ctx.storage.sql, this.clock.now(), input);
    // The SQL went round the Fleet's own writes: nothing cached from before it is trusted.
    this.forgetCache();
    if (seeded.queued > 0) this.waiters.wake();
    return { ok: true, value: { specs: seeded.specs } };
  }

  /**
   * While a test holds the clock still the alarm is parked an hour out: the test runs it with
   * runDurableObjectAlarm, so it never fires behind the test's back.
   */
  protected override alarmTime(at: number): number {
    return this.testClock.isStopped() ? Date.now() + 3600_000 : super.alarmTime(at);
  }

  /**
   * The test Worker leaves the signature's time window to this clock, which tests pin far from
   * real time. One running at a benchmark's rate drifts from the executors' real clocks by
   * design, so a scaled clock checks against real time.
   */
  protected override signatureCheckTime(): number {
    return Math.floor((this.testClock.isScaled() ? Date.now() : this.clock.now()) / 1000);
  }

  /** A stopped clock never reaches a cooling's end by itself: waiting claims wait for a change. */
  protected override untilProviderChange(): number {
    return this.testClock.isStopped() ? Number.POSITIVE_INFINITY : super.untilProviderChange();
  }
}
