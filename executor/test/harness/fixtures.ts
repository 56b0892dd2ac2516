// Test fixtures: a demo provider on loopback, a temp git repo on a run branch, a per-run HOME.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processGroupMembers } from "../../src/harness/process";
import type { ProviderConfig } from "../../src/harness/types";

export interface Workspace {
  root: string;
  repo: string;
  home: string;
  git(...args: string[]): string;
  cleanup(): void;
}

/** A git repo with one commit on `main` and the run branch checked out. */
export function makeWorkspace(files: Record<string, string> = { "README.md": "# demo repo\n" }): Workspace {
  const root = mkdtempSync(join(tmpdir(), "mtor-harness-"));
  const repo = join(root, "repo");
  const home = join(root, "home");
  mkdirSync(repo);
  mkdirSync(home);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "fixture",
    GIT_AUTHOR_EMAIL: "fixture@mtor.invalid",
    GIT_COMMITTER_NAME: "fixture",
    GIT_COMMITTER_EMAIL: "fixture@mtor.invalid",
  };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, env, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "main");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  git("checkout", "-q", "-b", "mtor/abc123-1");
  return { root, repo, home, git, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function demoProviderConfig(url: string, harness = "claude"): ProviderConfig {
  return { name: "demo", baseUrl: url, token: "demo-token", model: "demo", harness };
}

/** `ps -o pid= -g <pgid>`: members of the group that are still alive (zombies excluded). */
export function liveGroupMembers(pgid: number): number[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,stat=", "-g", String(pgid)], { encoding: "utf8" });
  } catch {
    // ps exits 1 when nothing matches
  }
  const fromPs = out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 2 && !f[1].startsWith("Z"))
    .map((f) => Number(f[0]));
  return [...new Set([...fromPs, ...processGroupMembers(pgid)])];
}

/** Polls a condition until it holds or the deadline passes. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A bare `origin` with `main`, and a clone of it on the run branch, like an executor worktree. */
export function makeClonedWorkspace(files: Record<string, string>): Workspace & { origin: string } {
  const w = makeWorkspace(files);
  const origin = join(w.root, "origin.git");
  execFileSync("git", ["clone", "-q", "--bare", "--single-branch", "--branch", "main", w.repo, origin]);
  w.git("remote", "add", "origin", origin);
  w.git("fetch", "-q", "origin");
  return { ...w, origin };
}
