// The one way mtor runs git: no shell, a clean environment, hooks and fsmonitor off, so nothing a
// repository holds (its hooks, its config's programs) runs inside the executor.
import { execFile, spawn } from "node:child_process";

/** An error from git that the caller may show to a person (bad ref, not a repository). */
export class GitError extends Error {
  override name = "GitError";
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
    readonly code: number | null = null,
  ) {
    super(message);
  }
}

/**
 * Settings forced on every git mtor runs, above any repository's own config: no hooks, no
 * fsmonitor program, no `ext::` transport that runs a command.
 */
export const FORCED_CONFIG: readonly (readonly [string, string])[] = [
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
  ["protocol.ext.allow", "never"],
];

/** What git needs to reach a remote with this box's own credentials (ssh agent, proxies). */
const REMOTE_VARS = [
  "SSH_AUTH_SOCK",
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_SSH_VARIANT",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
];

export interface GitEnvOptions {
  /** Talking to a remote: keep this box's ssh agent, ssh command, proxies and system config. */
  remote?: boolean;
  extra?: Record<string, string | undefined>;
}

/**
 * The environment git runs in: built from nothing, so none of the GIT_DIR-style or GIT_CONFIG_*
 * variables a parent process (a hook, a harness) may have set reach it; no pager, no prompts,
 * C locale, and the forced settings above.
 */
export function gitEnv(opts: GitEnvOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    GIT_PAGER: "cat",
    PAGER: "cat",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "true",
    GIT_OPTIONAL_LOCKS: "0",
    LC_ALL: "C",
  };
  if (!opts.remote) env.GIT_CONFIG_NOSYSTEM = "1";
  for (const k of ["HOME", "TMPDIR", "GIT_CONFIG_GLOBAL", ...(opts.remote ? REMOTE_VARS : [])]) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  env.GIT_CONFIG_COUNT = String(FORCED_CONFIG.length);
  FORCED_CONFIG.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  for (const [k, v] of Object.entries(opts.extra ?? {})) if (v !== undefined) env[k] = v;
  return env;
}

const MAX_BUFFER = 256 * 1024 * 1024;

export interface GitOptions {
  /** Written to git's stdin. */
  input?: string;
  signal?: AbortSignal;
  /** Default 10 minutes. */
  timeoutMs?: number;
  /** Talking to a remote (see gitEnv). */
  remote?: boolean;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs git and returns its output whatever the exit code; throws only when git cannot run. */
export function gitRaw(cwd: string, args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        env: gitEnv({ remote: opts.remote }),
        maxBuffer: MAX_BUFFER,
        encoding: "utf8",
        signal: opts.signal,
        timeout: opts.timeoutMs ?? 10 * 60_000,
      },
      (err, stdout, stderr) => {
        if (err?.name === "AbortError") {
          reject(err);
          return;
        }
        if (err && typeof (err as NodeJS.ErrnoException).code === "string") {
          reject(new GitError(`git could not run: ${err.message}`, args, String(stderr), null));
          return;
        }
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The git command in `args`, past any leading `-c key=value` settings. */
function commandOf(args: string[]): string | undefined {
  let i = 0;
  while (args[i] === "-c") i += 2;
  return args[i];
}

/** Runs git and returns stdout; throws GitError with git's own message on a non-zero exit. */
export async function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<string> {
  const r = await gitRaw(cwd, args, opts);
  if (r.code !== 0) {
    const msg = r.stderr.trim().split("\n").slice(-3).join(" ") || `exit ${r.code}`;
    throw new GitError(`git ${commandOf(args)} failed: ${msg}`, args, r.stderr, r.code);
  }
  return r.stdout;
}

/** Pipes one git command's stdout into another's stdin (`git log -p | git patch-id`). */
export function gitPipe(cwd: string, first: string[], second: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = gitEnv();
    const a = spawn("git", first, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const b = spawn("git", second, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let errA = "";
    let errB = "";
    a.stderr.on("data", (d: Buffer) => {
      errA += d.toString();
    });
    b.stderr.on("data", (d: Buffer) => {
      errB += d.toString();
    });
    b.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    // patch-id may finish reading before log finishes writing; an EPIPE there is harmless.
    b.stdin.on("error", () => {});
    a.stdout.pipe(b.stdin);
    let codeA: number | null = null;
    let codeB: number | null = null;
    const done = () => {
      if (codeA === null || codeB === null) return;
      if (codeA !== 0) reject(new GitError(`git ${first[0]} failed: ${errA.trim()}`, first, errA, codeA));
      else if (codeB !== 0)
        reject(new GitError(`git ${second[0]} failed: ${errB.trim()}`, second, errB, codeB));
      else resolve(out);
    };
    a.on("error", reject);
    b.on("error", reject);
    a.on("close", (c) => {
      codeA = c ?? 1;
      done();
    });
    b.on("close", (c) => {
      codeB = c ?? 1;
      done();
    });
  });
}

export interface GitPrefix {
  /** The first bytes of stdout, at most the limit asked for. */
  head: Buffer;
  /** Everything git wrote to stdout, counted though not kept. */
  bytes: number;
}

/** Runs git keeping only the first `maxBytes` of its output (a diff can be any size), and counts the rest. */
export function gitPrefix(cwd: string, args: string[], maxBytes: number): Promise<GitPrefix> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd, env: gitEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let bytes = 0;
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      bytes += d.length;
      if (keptBytes < maxBytes) {
        const part = d.subarray(0, maxBytes - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
    });
    child.stderr.on("data", (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new GitError(`git ${args[0]} failed: ${err.trim()}`, args, err, code ?? 1));
      else resolve({ head: Buffer.concat(kept), bytes });
    });
  });
}
