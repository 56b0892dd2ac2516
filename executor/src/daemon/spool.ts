// The verdict spool: every verdict is on disk before it is sent and stays there until the
// control plane acknowledges it, so neither an outage nor an executor restart loses one.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type ExecutorClient, TransportError, type VerdictRequest } from "@mtor/schema";

export interface SpooledVerdict {
  run_id: string;
  spec_id: string;
  attempt: number;
  verdict: VerdictRequest;
  spooled_at: string;
}

/** What happened to one send: acknowledged, refused for good, or to be tried again later. */
export type SendResult =
  | { state: "acknowledged"; status: string }
  | { state: "refused"; code: string; httpStatus: number }
  | { state: "retry"; error: string };

export interface SpoolOptions {
  dir: string;
  client: Pick<ExecutorClient, "verdict">;
  log?: (line: string) => void;
  /** First resend delay; doubles up to maxDelayMs, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class VerdictSpool {
  readonly dir: string;
  private readonly client: Pick<ExecutorClient, "verdict">;
  private readonly log: (line: string) => void;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  /** Called after each verdict leaves the spool (acknowledged or refused). */
  onSettled?: (entry: SpooledVerdict, result: SendResult) => void;

  constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.client = opts.client;
    this.log = opts.log ?? (() => {});
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.delayMs = this.baseDelayMs;
    mkdirSync(this.dir, { recursive: true });
  }

  /** Writes the verdict durably (write, fsync, rename). Replaces an older one for the same run. */
  write(entry: Omit<SpooledVerdict, "spooled_at">): SpooledVerdict {
    const full: SpooledVerdict = { ...entry, spooled_at: new Date().toISOString() };
    const tmp = join(this.dir, `.${entry.run_id}.${randomBytes(4).toString("hex")}.tmp`);
    writeFileSync(tmp, JSON.stringify(full));
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file(entry.run_id));
    return full;
  }

  /** Every verdict still waiting for an acknowledgement, oldest first. */
  pending(): SpooledVerdict[] {
    const out: SpooledVerdict[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json") || name.startsWith(".")) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, name), "utf8")) as SpooledVerdict);
      } catch {
        // A torn file cannot exist (rename is atomic); anything unreadable was put there by hand.
        this.log(`spool: ignoring unreadable ${name}`);
      }
    }
    return out.sort((a, b) => a.spooled_at.localeCompare(b.spooled_at));
  }

  has(runId: string): boolean {
    try {
      readFileSync(this.file(runId));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends one spooled verdict once; removes it from the spool unless it should be retried. A
   * send of the same run already in flight is joined, not repeated.
   */
  send(entry: SpooledVerdict): Promise<SendResult> {
    const running = this.inFlight.get(entry.run_id);
    if (running) return running;
    const p = this.sendOnce(entry).finally(() => this.inFlight.delete(entry.run_id));
    this.inFlight.set(entry.run_id, p);
    return p;
  }

  private readonly inFlight = new Map<string, Promise<SendResult>>();

  private async sendOnce(entry: SpooledVerdict): Promise<SendResult> {
    let result: SendResult;
    try {
      const res = await this.client.verdict(entry.run_id, entry.verdict);
      if (res.ok) result = { state: "acknowledged", status: res.data.status };
      else if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        // 409 lease_lost and every other 4xx are the control plane's final word on this verdict.
        result = { state: "refused", code: res.error.code, httpStatus: res.status };
      } else result = { state: "retry", error: `${res.status} ${res.error.code}` };
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      result = { state: "retry", error: err.message };
    }
    if (result.state !== "retry") {
      rmSync(this.file(entry.run_id), { force: true });
      this.onSettled?.(entry, result);
    }
    return result;
  }

  /** Tries every pending verdict once. Returns how many are still pending. */
  async flush(): Promise<number> {
    while (this.flushing) await this.flushing;
    let left = 0;
    const run = async () => {
      for (const entry of this.pending()) {
        // Its sender reports it; resending here would only race it.
        if (this.inFlight.has(entry.run_id)) continue;
        const r = await this.send(entry);
        if (r.state === "retry") left++;
        else if (r.state === "refused")
          this.log(`run ${label(entry)} verdict refused: ${r.httpStatus} ${r.code}`);
        else this.log(`run ${label(entry)} verdict delivered from spool → ${r.status}`);
      }
    };
    this.flushing = run();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    return left;
  }

  /** Keeps resending pending verdicts with backoff (doubling, jittered) until stopped. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Resend soon (e.g. after a verdict was spooled because the control plane was down). */
  kick(): void {
    if (this.stopped) return;
    this.delayMs = this.baseDelayMs;
    this.schedule(this.baseDelayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    let left = 0;
    try {
      left = await this.flush();
    } catch (err) {
      this.log(`spool: ${(err as Error).message}`);
      left = 1;
    }
    if (left === 0) {
      this.delayMs = this.baseDelayMs;
      this.schedule(this.maxDelayMs);
      return;
    }
    const jittered = this.delayMs * (0.5 + Math.random() / 2);
    this.delayMs = Math.min(this.delayMs * 2, this.maxDelayMs);
    this.schedule(jittered);
  }

  private file(runId: string): string {
    return join(this.dir, `${runId.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);
  }
}

function label(e: SpooledVerdict): string {
  return `${e.spec_id}-${e.attempt}`;
}
