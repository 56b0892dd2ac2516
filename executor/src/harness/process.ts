// Runs a harness CLI in its own process group with a timeout and an abort signal; on either it
// kills the whole group (SIGTERM, then SIGKILL after a grace) so no child outlives the run.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { Sandbox, SandboxPlace } from "../sandbox";

export const LOG_TAIL_BYTES = 8 * 1024;

export interface RunProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Written to stdin, then stdin is closed. Without it stdin is /dev/null. */
  stdin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Between SIGTERM and SIGKILL. Default 2 s. */
  graceMs?: number;
  /** Runs the command inside this sandbox, which may write only to `place`. */
  sandbox?: SandboxRun;
}

/** A sandbox and the run's own directories in it. */
export interface SandboxRun {
  sandbox: Sandbox;
  place: SandboxPlace;
}

export interface ProcessResult {
  exitCode: number | null;
  /** The signal that ended the leader, if any. */
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last ~8 KiB of stdout and stderr interleaved as they arrived. */
  tail: string;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the binary could not be started at all (ENOENT, EACCES …). */
  spawnError?: string;
  pgid?: number;
  durationMs: number;
  /** How long the CLI's first provider request waited on its hold (see HarnessInput.holdUntil). */
  heldMs?: number;
}

/** Keeps the last `max` bytes of a text stream, cut at a character boundary. */
export class Tail {
  private buf = "";
  constructor(private readonly max = LOG_TAIL_BYTES) {}
  push(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > this.max * 2) this.buf = this.buf.slice(-this.max * 2);
  }
  toString(): string {
    const bytes = Buffer.from(this.buf, "utf8");
    if (bytes.length <= this.max) return this.buf;
    return bytes
      .subarray(bytes.length - this.max)
      .toString("utf8")
      .replace(/^\uFFFD+/, "");
  }
}

/**
 * Live (non-zombie) members of a process group. Reads /proc on Linux; elsewhere falls back
 * to signal 0, which also counts zombies.
 */
export function processGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid pgrp … — comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[2]) === pgid && rest[0] !== "Z") out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until the group has no live member or the deadline passes. */
async function waitGroupGone(pgid: number, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (processGroupMembers(pgid).length === 0) return true;
    if (Date.now() >= end) return false;
    await delay(50);
  }
}

/** SIGTERM the group, SIGKILL whatever is left after the grace, and wait until it is empty. */
export async function killProcessGroup(pgid: number, graceMs = 2000): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  if (await waitGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, "SIGKILL");
  await waitGroupGone(pgid, 5000);
}

export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  const started = Date.now();
  const graceMs = opts.graceMs ?? 2000;
  return new Promise((resolve) => {
    const tail = new Tail();
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let killing: Promise<void> | null = null;

    if (opts.signal?.aborted) {
      resolve({
        exitCode: null,
        exitSignal: null,
        stdout,
        stderr,
        tail: "",
        timedOut,
        aborted: true,
        durationMs: 0,
      });
      return;
    }

    const cmd = opts.sandbox
      ? opts.sandbox.sandbox.wrap(
          { command: opts.command, args: opts.args, env: opts.env, cwd: opts.cwd },
          opts.sandbox.place,
        )
      : opts;
    // bwrap leads the group; killing it tears down the sandbox's PID namespace, and with it every
    // process the command started, setsid or not.
    const child = spawn(cmd.command, cmd.args, {
      cwd: cmd.cwd,
      env: cmd.env,
      detached: true,
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const pgid = child.pid;

    const kill = (): Promise<void> => {
      if (!killing) killing = pgid ? killProcessGroup(pgid, graceMs) : Promise.resolve();
      return killing;
    };
    const timer = setTimeout(() => {
      timedOut = true;
      void kill();
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      void kill();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    const take = (which: "out" | "err") => (data: Buffer) => {
      const text = data.toString("utf8");
      if (which === "out") stdout += text;
      else stderr += text;
      tail.push(text);
      opts.onOutput?.(text);
    };
    child.stdout?.on("data", take("out"));
    child.stderr?.on("data", take("err"));
    if (opts.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {
        // the harness may exit before reading all of stdin
      });
      child.stdin.end(opts.stdin);
    }

    const finish = async (
      exitCode: number | null,
      exitSignal: NodeJS.Signals | null,
      spawnError?: string,
    ) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      // Whatever the leader left behind in its group goes too.
      if (pgid) await kill();
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        exitCode,
        exitSignal,
        stdout,
        stderr,
        tail: tail.toString(),
        timedOut,
        aborted,
        spawnError,
        pgid,
        durationMs: Date.now() - started,
      });
    };

    child.once("error", (err) => {
      void finish(null, null, err.message);
    });
    child.once("exit", (code, signal) => {
      // Give the pipes a moment to drain what the leader wrote last.
      let drained = 0;
      const done = () => {
        drained += 1;
        if (drained === 2) void finish(code, signal);
      };
      const drain = (s: NodeJS.ReadableStream | null) => {
        if (!s || (s as unknown as { readableEnded: boolean }).readableEnded) return done();
        const t = setTimeout(done, 500);
        s.once("end", () => {
          clearTimeout(t);
          done();
        });
      };
      drain(child.stdout);
      drain(child.stderr);
    });
  });
}
