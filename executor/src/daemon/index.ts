// The executor daemon: long-polls for as many runs as it has free capacity, runs each through
// the engine, replays the verdict spool, and drains on SIGTERM/SIGINT so every claimed run gets
// a verdict.
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type ClaimedRun, ExecutorClient, type ExecutorInfo, TransportError } from "@mtor/schema";
import type { ExecutorConfig } from "../config";
import { createActivities } from "../engine/activities";
import { type RunHandle, startRun } from "../engine/local";
import type { RunActivities } from "../engine/types";
import type { StopReason } from "../engine/verdict";
import { boxLoad } from "./load";
import { ClaimLedger, recoverLeftovers } from "./recover";
import { VerdictSpool } from "./spool";
import type { Wiring } from "./wiring";

export const EXECUTOR_VERSION = "0.1.0";

export interface DaemonOptions {
  config: ExecutorConfig;
  /** Harness adapters, prompt and gates (see ActivityDeps). */
  wiring: Wiring;
  log?: (line: string) => void;
  /** Starts one claimed run; defaults to the local engine. The Temporal engine plugs in here. */
  runner?: (run: ClaimedRun, daemon: Daemon) => RunHandle;
  /**
   * The runner's work outlives this process (the Temporal engine): claims left by an earlier
   * process are handed back to the runner, which attaches to their workflows, instead of being
   * reported failed.
   */
  resumeLeftovers?: boolean;
}

export class Daemon {
  readonly config: ExecutorConfig;
  readonly client: ExecutorClient;
  readonly spool: VerdictSpool;
  readonly log: (line: string) => void;
  readonly ledger: ClaimLedger;
  private readonly running = new Map<string, RunHandle>();
  /** The run's steps, built once: the local engine runs them here, a Temporal box's workers too. */
  readonly activities: RunActivities;
  private readonly runner: (run: ClaimedRun, daemon: Daemon) => RunHandle;
  private readonly resumeLeftovers: boolean;
  private draining = false;
  /** Set when the daemon stopped because it cannot work (e.g. its key is refused). */
  exitCode = 0;
  private claimAbort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private stopped: Promise<void> | undefined;
  /** This process's boot id: the control plane leases runs to the process, not only the id. */
  readonly boot = randomUUID();
  /**
   * Until the control plane has answered a claim: the boot of the process this one replaces
   * (from `<workdir>/boot`), whose runs it ends at once, and the runs of it this process resumes.
   */
  private restart: { previous_boot: string; resumed: string[] } | undefined;

  constructor(opts: DaemonOptions) {
    this.config = opts.config;
    this.log = opts.log ?? ((line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`));
    this.client = new ExecutorClient({
      url: this.config.controlPlane,
      keyId: this.config.keyId,
      secret: this.config.secret,
      fetch: timedFetch(this.config.claimWaitS),
    });
    this.spool = new VerdictSpool({
      dir: join(this.config.workdir, "spool"),
      client: this.client,
      log: this.log,
    });
    this.ledger = new ClaimLedger(join(this.config.workdir, "claims"));
    this.activities = createActivities({
      config: this.config,
      spool: this.spool,
      log: this.log,
      reviewer: this.config.review,
      ...opts.wiring,
    });
    this.resumeLeftovers = opts.resumeLeftovers ?? false;
    this.runner =
      opts.runner ??
      ((run) =>
        startRun(run, {
          activities: this.activities,
          client: this.client,
          load: () => this.load(),
          heartbeatMs: this.config.heartbeatMs,
          log: this.log,
        }));
  }

  load() {
    return boxLoad(this.config.workdir, this.config.cpuCores);
  }

  info(): ExecutorInfo {
    return {
      id: this.config.id,
      host: hostname().slice(0, 500),
      version: EXECUTOR_VERSION,
      arch: `${process.platform}-${process.arch}`,
      capacity: this.config.capacity,
      providers: Object.keys(this.config.providers),
      repos: Object.keys(this.config.repos),
      load: this.load(),
      boot: this.boot,
    };
  }

  get active(): number {
    return this.running.size;
  }

  /** Runs until drained. Resolves when every claimed run has its verdict written. */
  async run(): Promise<void> {
    const providers = Object.values(this.config.providers).map((p) => `${p.name}(${p.harness})`);
    this.log(
      `executor ${this.config.id} → ${this.config.controlPlane}: capacity ${this.config.capacity}, repos ${Object.keys(this.config.repos).join(",")}, providers ${providers.join(",")}`,
    );
    const resumed: string[] = [];
    if (this.resumeLeftovers) {
      for (const rec of this.ledger.leftovers()) {
        resumed.push(rec.run.run_id);
        this.log(
          `run ${rec.run.spec_id}-${rec.run.attempt} left by an earlier executor process; resuming it`,
        );
        this.begin(rec.run);
      }
    } else {
      recoverLeftovers(this.ledger, this.spool, this.config.workdir, this.log);
    }
    this.takeOverBoot(resumed);
    const pending = this.spool.pending().length;
    if (pending > 0) {
      this.log(`spool: replaying ${pending} verdict(s) from an earlier run`);
      await this.spool.flush().catch((err: Error) => this.log(`spool: ${err.message}`));
    }
    this.spool.start();

    let backoffMs = 1000;
    let answered = false;
    // The last reason the control plane gave for no work, logged when it changes, so a person
    // reading the log sees a hold (frozen, review_backlog, …) begin; `empty` is the quiet state.
    let heldBy: string | undefined;
    while (!this.draining) {
      const free = this.config.capacity - this.running.size;
      if (free <= 0) {
        await new Promise<void>((r) => {
          this.wake = r;
        });
        continue;
      }
      this.claimAbort = new AbortController();
      try {
        const res = await this.client.claim(
          { executor: { ...this.info(), ...this.restart }, free, wait_s: this.config.claimWaitS },
          this.claimAbort.signal,
        );
        if (res.ok) {
          backoffMs = 1000;
          answered = true;
          this.restart = undefined;
          for (const run of res.data.runs) this.begin(run);
          const reason = res.data.runs.length > 0 ? undefined : res.data.reason;
          if (reason !== heldBy) {
            if (reason && reason !== "empty") this.log(`no new runs: ${reason}`);
            else if (heldBy && heldBy !== "empty") this.log(`claiming again (was ${heldBy})`);
            heldBy = reason;
          }
        } else if (!answered && (res.status === 401 || res.status === 403)) {
          // A wrong key or secret does not fix itself: say so and stop, instead of idling all night.
          this.log(
            `claim refused: ${res.status} ${res.error.code}: ${res.error.message}; check key_id "${this.config.keyId}" and its secret against the control plane's EXECUTOR_KEYS`,
          );
          this.exitCode = 2;
          this.draining = true;
        } else {
          this.log(`claim refused: ${res.status} ${res.error.code}: ${res.error.message}`);
          await this.sleep(jitter(backoffMs));
          backoffMs = Math.min(backoffMs * 2, 60_000);
        }
      } catch (err) {
        if (this.draining) break;
        const msg = err instanceof TransportError ? err.message : (err as Error)?.message;
        this.log(`claim: ${msg}; retrying in ~${Math.round(backoffMs / 1000)}s`);
        await this.sleep(jitter(backoffMs));
        backoffMs = Math.min(backoffMs * 2, 30_000);
      } finally {
        this.claimAbort = undefined;
      }
    }
    await this.finish();
  }

  /**
   * Records this process's boot in the workdir, and remembers the one it replaces: a process
   * that was SIGKILLed or crashed may have been handed runs it never saw (its long poll was still
   * open in the control plane), and its runs would otherwise hold their slots until their leases
   * ran out. The first claim names that boot, so the control plane ends them at once.
   */
  private takeOverBoot(resumed: string[]): void {
    const file = join(this.config.workdir, "boot");
    let previous: string | undefined;
    try {
      previous = readFileSync(file, "utf8").trim() || undefined;
    } catch {
      // First start in this workdir.
    }
    writeFileSync(file, `${this.boot}\n`);
    // Only a boot id this daemon could have written is sent: anything else in the file is ignored.
    const valid = previous !== undefined && /^[0-9a-f-]{36}$/.test(previous) && previous !== this.boot;
    this.restart = valid ? { previous_boot: previous as string, resumed: resumed.slice(0, 256) } : undefined;
  }

  private begin(run: ClaimedRun): void {
    this.ledger.record(run);
    const handle = this.runner(run, this);
    this.running.set(run.run_id, handle);
    void handle.done
      .then(() => this.ledger.forget(run.run_id))
      .catch((err: Error) => this.log(`run ${run.spec_id}-${run.attempt} engine error: ${err.message}`))
      .finally(() => {
        this.running.delete(run.run_id);
        this.wake?.();
        this.wake = undefined;
      });
  }

  /** Stops claiming; running work finishes, or is cancelled after drainMs (or at once when `now`). */
  drain(now = false): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.log(
        `draining: ${this.running.size} run(s) in flight, deadline ${Math.round(this.config.drainMs / 1000)}s`,
      );
      this.claimAbort?.abort();
      this.wake?.();
      this.wakeSleep?.();
    }
    if (now) this.stopAll("drain");
    if (!this.stopped) {
      this.stopped = new Promise<void>((resolve) => {
        this.onFinished = resolve;
      });
    }
    return this.stopped;
  }

  private onFinished: (() => void) | undefined;

  private stopAll(reason: StopReason): void {
    for (const h of this.running.values()) h.stop(reason);
  }

  private async finish(): Promise<void> {
    const deadline = setTimeout(() => {
      if (this.running.size > 0) this.log(`drain deadline: cancelling ${this.running.size} run(s)`);
      this.stopAll("drain");
    }, this.config.drainMs);
    await Promise.allSettled([...this.running.values()].map((h) => h.done));
    clearTimeout(deadline);
    this.spool.stop();
    const left = await this.spool.flush().catch(() => this.spool.pending().length);
    if (left > 0)
      this.log(`spool: ${left} verdict(s) left on disk; they are sent when the executor starts again`);
    this.log("executor stopped");
    this.onFinished?.();
  }

  private wakeSleep: (() => void) | undefined;
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}

/**
 * A control plane that accepts the connection but never answers must not hang a heartbeat or a
 * verdict forever: every request gets a deadline (the long poll's wait plus a margin for claims).
 */
function timedFetch(claimWaitS: number): (req: Request) => Promise<Response> {
  return (req) => {
    const ms = req.url.endsWith("/claim") ? (claimWaitS + 20) * 1000 : 30_000;
    const timeout = AbortSignal.timeout(ms);
    return fetch(req, { signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout });
  };
}

function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random() / 2));
}
