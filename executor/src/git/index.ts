// Git plumbing for a run: a bare mirror per repo with no remote configured (so nothing inside a
// worktree can push anywhere), worktrees on the run branch, ref snapshots and the one push.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

export class GitError extends Error {
  override name = "GitError";
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface GitOptions {
  cwd: string;
  signal?: AbortSignal;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs git and returns stdout; throws GitError with git's own message on failure. */
export function git(args: string[], opts: GitOptions): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "git",
      args,
      {
        cwd: opts.cwd,
        signal: opts.signal,
        timeout: opts.timeoutMs ?? 10 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
        // Never prompt for credentials: an executor has no terminal to answer.
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "true", ...opts.env },
      },
      (err, stdout, stderr) => {
        if (err) {
          const msg = String(stderr).trim().split("\n").slice(-3).join(" ") || err.message;
          reject(new GitError(`git ${args[0]}: ${msg}`, args, String(stderr)));
        } else {
          resolvePromise(String(stdout));
        }
      },
    );
  });
}

/** The namespace the mirror fetches the remote's branches into. */
export const REMOTE_NS = "refs/remotes/origin";

// Fetches into one mirror must not overlap (ref locks); runs of one repo queue here.
const locks = new Map<string, Promise<unknown>>();
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await next;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

/**
 * Creates the bare mirror when missing and fetches every branch of `url` into refs/remotes/origin.
 * The mirror has no remote: the executor names the URL explicitly on fetch and push.
 */
export async function syncMirror(mirror: string, url: string, signal?: AbortSignal): Promise<void> {
  await withLock(mirror, async () => {
    if (!existsSync(mirror)) {
      await mkdir(dirname(mirror), { recursive: true });
      await git(["init", "--quiet", "--bare", mirror], { cwd: dirname(mirror) });
    }
    await git(["fetch", "--quiet", "--prune", "--no-tags", url, `+refs/heads/*:${REMOTE_NS}/*`], {
      cwd: mirror,
      signal,
    });
  });
}

/** The remote's default branch name (what its HEAD points to), e.g. "main". */
export async function defaultBranch(mirror: string, url: string, signal?: AbortSignal): Promise<string> {
  const out = await git(["ls-remote", "--symref", url, "HEAD"], { cwd: mirror, signal });
  const m = /^ref:\s+refs\/heads\/(\S+)\s+HEAD/m.exec(out);
  if (m) return m[1];
  // Fall back to the usual names when the remote does not advertise its HEAD.
  for (const name of ["main", "master"]) {
    if (await refExists(mirror, `${REMOTE_NS}/${name}`)) return name;
  }
  throw new GitError("cannot tell the remote's default branch; set `base` in the repo's config", [], out);
}

export async function refExists(repo: string, ref: string): Promise<boolean> {
  try {
    await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: repo });
    return true;
  } catch {
    return false;
  }
}

export async function revParse(repo: string, ref: string): Promise<string> {
  return (await git(["rev-parse", "--verify", `${ref}^{commit}`], { cwd: repo })).trim();
}

/** Adds a worktree at `path` on a fresh `branch` starting at `startSha`. */
export async function addWorktree(
  mirror: string,
  path: string,
  branch: string,
  startSha: string,
): Promise<void> {
  await withLock(mirror, async () => {
    await mkdir(dirname(path), { recursive: true });
    if (existsSync(path)) await removeWorktree(mirror, path);
    await git(["worktree", "prune"], { cwd: mirror });
    await git(["worktree", "add", "--quiet", "-B", branch, path, startSha], { cwd: mirror });
  });
}

export async function removeWorktree(mirror: string, path: string): Promise<void> {
  await git(["worktree", "remove", "--force", "--force", path], { cwd: mirror }).catch(async () => {
    const { rm } = await import("node:fs/promises");
    await rm(path, { recursive: true, force: true });
    await git(["worktree", "prune"], { cwd: mirror });
  });
}

export async function deleteBranch(mirror: string, branch: string): Promise<void> {
  await git(["update-ref", "-d", `refs/heads/${branch}`], { cwd: mirror }).catch(() => undefined);
}

/** Every ref of the repository: name → sha. */
export async function listRefs(repo: string): Promise<Record<string, string>> {
  const out = await git(["for-each-ref", "--format=%(refname) %(objectname)"], { cwd: repo });
  const refs: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const [name, sha] = line.trim().split(" ");
    if (name && sha) refs[name] = sha;
  }
  return refs;
}

/** Commits on `head` not on `base`, and the net diff's size. */
export async function branchSummary(
  repo: string,
  base: string,
  head: string,
): Promise<{ commits: number; diffstat: { files: number; insertions: number; deletions: number } }> {
  const count = Number((await git(["rev-list", "--count", `${base}..${head}`], { cwd: repo })).trim());
  const stat = await git(["diff", "--shortstat", base, head], { cwd: repo });
  const num = (re: RegExp) => Number(re.exec(stat)?.[1] ?? 0);
  return {
    commits: count,
    diffstat: {
      files: num(/(\d+) files? changed/),
      insertions: num(/(\d+) insertions?\(\+\)/),
      deletions: num(/(\d+) deletions?\(-\)/),
    },
  };
}

/**
 * Pushes exactly one branch with an explicit refspec `refs/heads/B:refs/heads/B`: never HEAD (the
 * agent may have checked out something else) and never a pattern.
 */
export async function pushBranch(
  mirror: string,
  url: string,
  branch: string,
  signal?: AbortSignal,
): Promise<void> {
  if (!branch.startsWith("mtor/")) throw new GitError(`refusing to push ${branch}: not a run branch`, [], "");
  const ref = `refs/heads/${branch}`;
  await git(["push", "--quiet", "--no-verify", url, `${ref}:${ref}`], { cwd: mirror, signal });
}
