// Git plumbing for a run: a bare mirror per repo with no remote configured, a workspace that is a
// repository of its own (the agent's, never trusted), taking the agent's commits into the mirror,
// the origin's refs before and after, and the one push of the gated sha.
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { GitError, git, gitRaw } from "./exec";

export { FORCED_CONFIG, GitError, type GitOptions, git, gitEnv, gitPipe, gitRaw } from "./exec";

/** The namespace the mirror fetches the remote's branches into. */
export const REMOTE_NS = "refs/remotes/origin";
/** Where the mirror keeps each run's commits, taken from its workspace: outside refs/heads. */
export const RUNS_NS = "refs/mtor-runs";

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

/** Creates the bare mirror when missing. It has no remote: the executor names the URL on fetch and push. */
export async function ensureMirror(mirror: string): Promise<void> {
  if (existsSync(mirror)) return;
  await withLock(mirror, async () => {
    if (existsSync(mirror)) return;
    await mkdir(dirname(mirror), { recursive: true });
    await git(dirname(mirror), ["init", "--quiet", "--bare", mirror]);
  });
}

/** Creates the bare mirror when missing and fetches every branch of `url` into refs/remotes/origin. */
export async function syncMirror(mirror: string, url: string, signal?: AbortSignal): Promise<void> {
  await ensureMirror(mirror);
  await withLock(mirror, () =>
    git(mirror, ["fetch", "--quiet", "--prune", "--no-tags", url, `+refs/heads/*:${REMOTE_NS}/*`], {
      signal,
      remote: true,
    }),
  );
}

/** The remote's default branch (what its HEAD points to, else main or master), from its listing. */
export function defaultBranchOf(listing: { refs: Record<string, string>; head?: string }): string {
  if (listing.head) return listing.head;
  for (const name of ["main", "master"]) if (listing.refs[`refs/heads/${name}`]) return name;
  throw new GitError("cannot tell the remote's default branch; set `base` in the repo's config", [], "");
}

/**
 * Every ref the remote advertises: name → sha (HEAD, which repeats a branch, and peeled `^{}`
 * entries left out), and the branch its HEAD points to when it says.
 */
export async function lsRemote(
  cwd: string,
  url: string,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  return (await lsRemoteWithHead(cwd, url, signal)).refs;
}

export async function lsRemoteWithHead(
  cwd: string,
  url: string,
  signal?: AbortSignal,
): Promise<{ refs: Record<string, string>; head?: string }> {
  // Protocol v0: the server lists every ref as soon as it is asked, in one round trip; v2 first
  // advertises its capabilities and lists refs only when asked again (40 against 115 ms to an
  // origin 30 ms away). The listing is the same, HEAD's branch included.
  const out = await git(cwd, ["-c", "protocol.version=0", "ls-remote", "--symref", url], {
    signal,
    remote: true,
  });
  const refs: Record<string, string> = {};
  let head: string | undefined;
  for (const line of out.split("\n")) {
    const sym = /^ref:\s+refs\/heads\/(\S+)\s+HEAD$/.exec(line.trim());
    if (sym) {
      head = sym[1];
      continue;
    }
    const [sha, name] = line.trim().split(/\s+/);
    if (sha && name?.startsWith("refs/") && !name.endsWith("^{}")) refs[name] = sha;
  }
  return { refs, head };
}

/** Whether the repository holds `sha` as a commit. */
export async function hasCommit(repo: string, sha: string): Promise<boolean> {
  const r = await gitRaw(repo, ["cat-file", "-e", `${sha}^{commit}`]);
  return r.code === 0;
}

/** Points `ref` at `sha` (a commit the repository already holds). */
export async function setRef(repo: string, ref: string, sha: string): Promise<void> {
  await git(repo, ["update-ref", ref, sha]);
}

export async function refExists(repo: string, ref: string): Promise<boolean> {
  const r = await gitRaw(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  return r.code === 0;
}

export async function revParse(repo: string, ref: string): Promise<string> {
  return (await git(repo, ["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`])).trim();
}

/**
 * Makes `dir` a repository of its own holding a copy of the mirror's objects (no hard links, no
 * alternates: nothing in it points back at the mirror), with no remote, checked out on a fresh
 * `branch` at `startSha`.
 */
export async function createWorkspace(
  mirror: string,
  dir: string,
  branch: string,
  startSha: string,
  signal?: AbortSignal,
): Promise<void> {
  await cloneObjects(mirror, dir, signal);
  await git(dir, ["checkout", "--quiet", "-B", branch, startSha], { signal });
}

/** A repository at `dir` with a copy of the mirror's objects, no remote, no hooks, nothing checked out. */
export async function cloneObjects(mirror: string, dir: string, signal?: AbortSignal): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await withLock(mirror, () =>
    git(
      dirname(dir),
      ["clone", "--quiet", "--local", "--no-hardlinks", "--no-checkout", "--template=", mirror, dir],
      { signal },
    ),
  );
  await git(dir, ["remote", "remove", "origin"]);
}

/**
 * Takes the agent's commits: fetches `branch` from the workspace into the mirror at `runRef`. Only
 * objects cross; the workspace's hooks and config are not used (the forced settings are above
 * them, and upload-pack reads no program from a repository's config). Returns the fetched sha,
 * or undefined when the workspace no longer has the branch.
 */
export async function takeWork(
  mirror: string,
  workspace: string,
  branch: string,
  runRef: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  return withLock(mirror, async () => {
    const r = await gitRaw(
      mirror,
      [
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--",
        workspace,
        `+refs/heads/${branch}:${runRef}`,
      ],
      { signal },
    );
    if (r.code !== 0) {
      if (/couldn't find remote ref|not our ref|no such ref/i.test(r.stderr)) return undefined;
      throw new GitError(`git fetch from the workspace failed: ${r.stderr.trim()}`, [], r.stderr, r.code);
    }
    return revParse(mirror, runRef);
  });
}

export async function deleteRef(mirror: string, ref: string): Promise<void> {
  await gitRaw(mirror, ["update-ref", "-d", ref]);
}

/** Commits on `head` not on `base`, and the net diff's size. */
export async function branchSummary(
  repo: string,
  base: string,
  head: string,
): Promise<{ commits: number; diffstat: { files: number; insertions: number; deletions: number } }> {
  const count = Number((await git(repo, ["rev-list", "--count", `${base}..${head}`])).trim());
  const stat = await git(repo, ["diff", "--shortstat", base, head]);
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
 * Pushes exactly the gated commit to `refs/heads/<branch>` from the mirror: an explicit
 * `<sha>:<ref>` refspec, never a ref the agent could still move, never a pattern, never forced.
 */
export async function pushSha(
  mirror: string,
  url: string,
  sha: string,
  branch: string,
  signal?: AbortSignal,
): Promise<void> {
  if (!branch.startsWith("mtor/")) throw new GitError(`refusing to push ${branch}: not a run branch`, [], "");
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new GitError(`refusing to push ${sha}: not a commit sha`, [], "");
  await git(mirror, ["push", "--quiet", "--no-verify", url, `${sha}:refs/heads/${branch}`], {
    signal,
    remote: true,
  });
}
