// The one lease keeper, used by both engines: it renews a run's lease through the executor's
// signed heartbeat, at once and then every period (and again at once whenever asked), and stops
// the run when the control plane says the lease is lost or the run was killed.
import { type ClaimedRun, type ExecutorClient, type Load, type Phase, TransportError } from "@mtor/schema";

/** What the control plane said to a lease heartbeat. `unreachable` keeps working: the lease may hold. */
export type LeaseState = "held" | "cancel" | "lost" | "unreachable";

export type RenewLease = (run: ClaimedRun, phase: Phase, progress?: string) => Promise<LeaseState>;

const label = (run: ClaimedRun) => `${run.spec_id}-${run.attempt}`;

/**
 * One heartbeat call, one plain answer. `cancel: true` (an operator kill) and 409/404/410 (the
 * lease is gone) stop the run; an unreachable control plane does not: the lease may still hold,
 * and the next heartbeat tries again (the keeper says so once per outage).
 */
export function leaseRenewer(
  client: Pick<ExecutorClient, "heartbeat">,
  load: () => Load,
  log: (line: string) => void = () => {},
): RenewLease {
  return async (run, phase, progress) => {
    try {
      const res = await client.heartbeat(run.run_id, {
        token: run.lease.token,
        phase,
        load: load(),
        progress,
      });
      if (res.ok) return res.data.cancel ? "cancel" : "held";
      if (res.status === 409 || res.status === 404 || res.status === 410) {
        log(`run ${label(run)} lease lost (${res.status} ${res.error.code})`);
        return "lost";
      }
      log(`run ${label(run)} heartbeat: ${res.status} ${res.error.code}`);
      return "unreachable";
    } catch (err) {
      if (!(err instanceof TransportError)) log(`run ${label(run)} heartbeat: ${(err as Error).message}`);
      return "unreachable";
    }
  };
}

export interface LeaseKeeperOptions {
  run: ClaimedRun;
  renew: RenewLease;
  /** Between heartbeats. */
  everyMs: number;
  /** What this beat reports; `undefined` skips it (the workflow is reporting its verdict). */
  report():
    | { phase: Phase; progress?: string }
    | undefined
    | Promise<{ phase: Phase; progress?: string } | undefined>;
  /** The lease is lost, or the run was killed: called once. */
  onStop(reason: "lost_lease" | "canceled"): void;
  log?: (line: string) => void;
  /** Milliseconds, for the outage's length. */
  now?: () => number;
}

export class LeaseKeeper {
  private inFlight: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private stopped = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private unreachableSince: number | undefined;

  constructor(private readonly opts: LeaseKeeperOptions) {}

  /** The first heartbeat at once (the claim's lease is provisional until it arrives), then one a period. */
  start(): this {
    this.timer = setInterval(() => void this.beat(), this.opts.everyMs);
    void this.beat();
    return this;
  }

  /** A heartbeat now; one asked for while another is in flight is sent right after it. */
  beat(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.beat();
      }
    });
    return this.inFlight;
  }

  /** A heartbeat after any in flight, so its answer is known when this resolves. */
  async beatNow(): Promise<void> {
    await this.settled();
    await this.beat();
  }

  /** Resolves once no heartbeat is in flight (the first one's answer is known after start()). */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** No heartbeat after this (the verdict ends the lease); waits for the one in flight. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.settled();
  }

  private async send(): Promise<void> {
    const { run, log = () => {}, now = Date.now } = this.opts;
    const what = await this.opts.report();
    if (!what || this.stopped) return;
    const state = await this.opts.renew(run, what.phase, what.progress);
    if (state === "unreachable") {
      // The control plane being away is no reason to stop working: said once per outage.
      if (this.unreachableSince === undefined) {
        this.unreachableSince = now();
        log(`run ${label(run)} heartbeat: control plane unreachable; the run goes on`);
      }
      return;
    }
    if (this.unreachableSince !== undefined) {
      log(
        `run ${label(run)} heartbeat: control plane back after ${((now() - this.unreachableSince) / 1000).toFixed(1)}s`,
      );
      this.unreachableSince = undefined;
    }
    if (state === "held" || this.stopped) return;
    this.stopped = true;
    this.opts.onStop(state === "lost" ? "lost_lease" : "canceled");
  }
}
