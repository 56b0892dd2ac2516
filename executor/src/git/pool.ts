// A per-repo pool of the agents' workspaces, so a run does not pay a full checkout. A workspace
// goes to the next run of its repo only after a reset that keeps nothing its previous agent could
// have planted: its git directory is rebuilt from the mirror (no config, hooks, info or
// alternates survive), untracked and ignored files are removed, and tracked files are checked
// against a stat cache the executor saved outside the workspace, so any file the agent touched is
// written again from the commit.
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { git } from "./exec";
import { cloneObjects, createWorkspace, hasCommit } from "./index";

/** Where a slot keeps its workspace and the executor's own copy of the workspace's index. */
const WS = "ws";
const TRUSTED_INDEX = "index";
/** Where a free slot's next `.git` is cloned from the mirror, beside the workspace, never in it. */
const SPARE = "git-new";

export interface Acquired {
  workspace: string;
  /** Whether a pooled workspace was reset rather than a fresh one checked out. */
  reused: boolean;
}

export class WorkspacePool {
  private readonly free = new Map<string, string[]>();
  private readonly busy = new Set<string>();
  /** A free slot's next `.git`, cloned from the mirror when the slot was given back. */
  private readonly spares = new Map<string, Promise<void>>();
  private next = 0;
  /** Slots a previous executor process left are not trusted: removed before the first run. */
  private swept: Promise<void> | undefined;

  constructor(readonly root: string) {}

  /**
   * A workspace for `repo`, checked out on a fresh `branch` at `sha`: a free slot of the repo's
   * reset, or a new one. A slot whose reset fails is thrown away and a new one made.
   */
  async acquire(
    repo: string,
    mirror: string,
    branch: string,
    sha: string,
    signal?: AbortSignal,
  ): Promise<Acquired> {
    this.swept ??= removeForcibly(this.root).catch(() => undefined);
    await this.swept;
    const free = this.free.get(repo) ?? [];
    let slot = free.pop();
    if (slot) {
      this.busy.add(slot);
      const spare = this.spares.get(slot);
      this.spares.delete(slot);
      try {
        await resetWorkspace(mirror, slot, branch, sha, signal, spare);
        return { workspace: join(slot, WS), reused: true };
      } catch (err) {
        this.busy.delete(slot);
        await removeForcibly(slot);
        if ((err as Error)?.name === "AbortError") throw err;
      }
    }
    slot = join(this.root, safeName(repo), String(this.next++));
    this.busy.add(slot);
    try {
      await freshWorkspace(mirror, slot, branch, sha, signal);
    } catch (err) {
      this.busy.delete(slot);
      await removeForcibly(slot);
      throw err;
    }
    return { workspace: join(slot, WS), reused: false };
  }

  /**
   * Gives a workspace back for the next run of `repo` (it is reset when next taken). With the
   * repo's `mirror`, the slot's next `.git` is cloned from it now, off the next run's path; the
   * promise settles when that clone is done (it never rejects: a failed one is made again at
   * the reset).
   */
  release(repo: string, workspace: string, mirror?: string): Promise<void> {
    const slot = dirname(workspace);
    if (!this.busy.delete(slot)) return Promise.resolve();
    let spare: Promise<void> | undefined;
    if (mirror) {
      spare = cloneObjects(mirror, join(slot, SPARE));
      this.spares.set(slot, spare);
    }
    const free = this.free.get(repo) ?? [];
    free.push(slot);
    this.free.set(repo, free);
    return (spare ?? Promise.resolve()).catch(() => undefined);
  }

  /** Takes a workspace out of the pool to `to` (a failed run keeps its workspace for a person to look at). */
  async detach(workspace: string, to: string): Promise<void> {
    const slot = dirname(workspace);
    if (!this.busy.delete(slot)) return;
    await mkdir(dirname(to), { recursive: true });
    await rm(to, { recursive: true, force: true });
    await rename(workspace, to);
    await removeForcibly(slot);
  }
}

/**
 * Makes `<slot>/ws` a repository of its own holding a copy of the mirror's objects (no hard links,
 * no alternates: nothing in it points back at the mirror), with no remote, checked out on a fresh
 * `branch` at `sha`; its index is saved beside it as the slot's trusted stat cache.
 */
export async function freshWorkspace(
  mirror: string,
  slot: string,
  branch: string,
  sha: string,
  signal?: AbortSignal,
): Promise<void> {
  await removeForcibly(slot);
  const ws = join(slot, WS);
  await createWorkspace(mirror, ws, branch, sha, signal);
  await copyFile(join(ws, ".git", "index"), join(slot, TRUSTED_INDEX));
}

/**
 * Resets a used `<slot>/ws` for a new run, trusting nothing the previous agent wrote: its `.git`
 * is replaced by a fresh clone's (only the executor's saved index goes in, as a stat cache whose
 * ctimes the agent cannot forge), every untracked or ignored file and nested repository goes, and
 * the checkout writes again every tracked file whose content, mode or inode changed. `spare`: the
 * clone made when the slot was given back, used when it holds `sha` (else a new one is made).
 */
export async function resetWorkspace(
  mirror: string,
  slot: string,
  branch: string,
  sha: string,
  signal?: AbortSignal,
  spare?: Promise<void>,
): Promise<void> {
  const ws = join(slot, WS);
  const trusted = join(slot, TRUSTED_INDEX);
  if (!existsSync(trusted)) throw new Error(`${slot} has no saved index`);
  const fresh = join(slot, SPARE);
  // The spare was cloned by the executor outside the workspace, after the agent was gone.
  const ready = spare
    ? await spare.then(
        () => hasCommit(fresh, sha),
        () => false,
      )
    : false;
  // A `.git` the agent made a symlink or a `gitdir:` file is removed as such, never followed.
  await rm(join(ws, ".git"), { recursive: true, force: true });
  if (!ready) await cloneObjects(mirror, fresh, signal);
  await rename(join(fresh, ".git"), join(ws, ".git"));
  await rm(fresh, { recursive: true, force: true });
  await copyFile(trusted, join(ws, ".git", "index"));
  // Against the saved index: everything it does not list goes, nested repositories included.
  await git(ws, ["clean", "-ffdxq"], { signal });
  await git(ws, ["checkout", "--quiet", "--force", "-B", branch, sha], { signal });
  await copyFile(join(ws, ".git", "index"), trusted);
}

/** Removes a directory even where the agent took its own write or search permission away. */
export async function removeForcibly(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    await grantAll(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function grantAll(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await grantAll(join(dir, e.name));
}

function safeName(repo: string): string {
  return repo.replace(/[^A-Za-z0-9._-]/g, "_");
}
