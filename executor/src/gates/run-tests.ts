// The `tests_failed` gate: runs the repo's test command on a checkout of head, with a timeout
// that kills the command's whole process group, and reports the last lines of its output.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxRun } from "../harness/process";
import { gitRaw } from "./git";
import type { Finding } from "./types";

export const DEFAULT_TEST_TIMEOUT_MS = 10 * 60 * 1000;
const TAIL_LINES = 15;
const TAIL_CHARS = 1500;

export interface TestRun {
  command: string;
  repoDir: string;
  headSha: string;
  dir?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Runs the command inside this sandbox (the run's); its home is the command's HOME. */
  sandbox?: SandboxRun;
  signal?: AbortSignal;
}

export interface TestResult {
  ok: boolean;
  code: number | null;
  timedOut: boolean;
  tail: string;
}

export async function checkTests(run: TestRun): Promise<Finding[]> {
  const r = await runTestCommand(run);
  if (r.ok) return [];
  const why = r.timedOut
    ? `timed out after ${Math.round((run.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS) / 1000)}s`
    : `exit ${r.code ?? "signal"}`;
  return [
    {
      gate: "tests_failed",
      detail: `\`${run.command}\` failed (${why}):\n${r.tail}`,
      facts: { kind: "tests_failed", command: run.command, why, tail: r.tail },
    },
  ];
}

/**
 * The default environment of the test command: the branch's code is the agent's, so it gets
 * no provider tokens or executor secrets, only what a test run needs.
 */
export function testEnv(home?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { CI: "1", TERM: "dumb", NO_COLOR: "1" };
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "NODE_OPTIONS", "npm_config_cache"]) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  if (home !== undefined) {
    env.HOME = home;
    delete env.npm_config_cache;
  }
  return env;
}

export async function runTestCommand(run: TestRun): Promise<TestResult> {
  let dir = run.dir;
  let scratch: string | undefined;
  if (!dir) {
    scratch = await mkdtemp(join(tmpdir(), "mtor-gate-"));
    dir = join(scratch, "head");
    const add = await gitRaw(run.repoDir, ["worktree", "add", "--detach", "--force", dir, run.headSha]);
    if (add.code !== 0) {
      await rm(scratch, { recursive: true, force: true });
      throw new Error(
        `could not check out ${run.headSha.slice(0, 7)} to run the tests: ${add.stderr.trim()}`,
      );
    }
  }
  try {
    return await exec(
      run.command,
      dir,
      run.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS,
      run.env ?? testEnv(run.sandbox?.place.home),
      run.signal,
      run.sandbox,
    );
  } finally {
    if (scratch) {
      await gitRaw(run.repoDir, ["worktree", "remove", "--force", dir]);
      await rm(scratch, { recursive: true, force: true });
      await gitRaw(run.repoDir, ["worktree", "prune"]);
    }
  }
}

function exec(
  command: string,
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
  sandbox?: SandboxRun,
): Promise<TestResult> {
  return new Promise((resolve, reject) => {
    const plain = { command: "sh", args: ["-c", command], env: env as Record<string, string>, cwd };
    // In the sandbox, bwrap leads the group and killing it ends every process of the tests.
    const cmd = sandbox ? sandbox.sandbox.wrap(plain, sandbox.place) : plain;
    const child = spawn(cmd.command, cmd.args, {
      cwd,
      env: cmd.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const keep = (d: Buffer) => {
      out += d.toString();
      if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = () => killGroup();
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve({ ok: code === 0 && !timedOut, code, timedOut, tail: tail(out) });
    });
  });
}

function tail(out: string): string {
  const clean = out.replace(/\u001b\[[0-9;]*m/g, "").trimEnd();
  const lines = clean.split(/\r?\n/).slice(-TAIL_LINES).join("\n");
  return lines.length > TAIL_CHARS ? lines.slice(-TAIL_CHARS) : lines;
}
