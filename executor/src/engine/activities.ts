// The steps of one run as plain functions over plain data, built from `createActivities(deps)`:
// the local engine calls them in-process and the Temporal engine registers them as activities.
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClaimedRun, GateSettings, Spec, VerdictRequest } from "@mtor/schema";
import type { ExecutorConfig, RepoConfig } from "../config";
import type { VerdictSpool } from "../daemon/spool";
import type { GateContext, GateReport } from "../gates/types";
import {
  addWorktree,
  branchSummary,
  defaultBranch,
  deleteBranch,
  GitError,
  pushBranch as gitPush,
  listRefs,
  REMOTE_NS,
  refExists,
  removeWorktree,
  revParse,
  syncMirror,
} from "../git";
import type { Harness, ProviderConfig } from "../harness/types";
import type { GateOutcome, HarnessOutcome, PreflightOutcome, ReportOutcome, RunActivities } from "./types";

export interface ActivityDeps {
  config: Pick<
    ExecutorConfig,
    "workdir" | "repos" | "providers" | "keepFailed" | "preflightTimeoutMs" | "gitIdentity"
  >;
  spool: VerdictSpool;
  /** The adapter for a harness name (claude, opencode, a command harness). */
  harnessFor(name: string): Harness;
  buildPrompt(spec: Spec, feedback: string[]): string;
  /** The preflight's prompt for a spec (carries e.g. the demo provider's directive). */
  buildPreflightPrompt?: (body: string) => string;
  /** The gate checks; when absent the run has no gates and passes on the harness alone. */
  runGates?: (ctx: GateContext) => Promise<GateReport>;
  log?: (line: string) => void;
}

/** A step's failure the verdict names by kind (git, internal…); thrown by the activities. */
export class StepFailure extends Error {
  override name = "StepFailure";
  constructor(
    readonly kind: "git" | "internal" | "harness",
    message: string,
  ) {
    super(message);
  }
}

export function runLabel(run: Pick<ClaimedRun, "spec_id" | "attempt">): string {
  return `${run.spec_id}-${run.attempt}`;
}

export function runBranch(run: Pick<ClaimedRun, "spec_id" | "attempt">): string {
  return `mtor/${runLabel(run)}`;
}

/** Where a repo's mirror and a run's files live under the workdir. */
export function mirrorPath(workdir: string, repo: string): string {
  return join(workdir, "mirrors", `${repo}.git`);
}
export function runDir(workdir: string, run: Pick<ClaimedRun, "spec_id" | "attempt">): string {
  return join(workdir, "runs", runLabel(run));
}

/** Refs that belong to this run's view: other runs' branches and the fetched remote move on their own. */
export function ownRefs(refs: Record<string, string>, branch: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, sha] of Object.entries(refs)) {
    if (name.startsWith("refs/remotes/")) continue;
    if (name.startsWith("refs/heads/mtor/") && name !== `refs/heads/${branch}`) continue;
    out[name] = sha;
  }
  return out;
}

export function createActivities(deps: ActivityDeps): RunActivities {
  const { config } = deps;
  const log = deps.log ?? (() => {});

  const repoOf = (run: ClaimedRun): RepoConfig => {
    const repo = config.repos[run.spec.repo];
    if (!repo) throw new StepFailure("internal", `repo "${run.spec.repo}" is not in this executor's config`);
    return repo;
  };

  const providerOf = (run: ClaimedRun): ProviderConfig => {
    const p = config.providers[run.provider.name];
    if (!p)
      throw new StepFailure("internal", `provider "${run.provider.name}" is not in this executor's config`);
    return p;
  };

  const harnessName = (run: ClaimedRun): string =>
    run.spec.harness ?? run.provider.harness ?? providerOf(run).harness;
  const modelOf = (run: ClaimedRun): string => run.spec.model ?? run.provider.model ?? providerOf(run).model;

  const asGitFailure = (err: unknown): never => {
    if (err instanceof StepFailure) throw err;
    if ((err as Error)?.name === "AbortError") throw err;
    throw new StepFailure(
      err instanceof GitError ? "git" : "internal",
      (err as Error)?.message ?? String(err),
    );
  };

  return {
    async prepareWorktree(run, hooks) {
      hooks?.heartbeat?.("preparing");
      const repo = repoOf(run);
      const mirror = mirrorPath(config.workdir, repo.name);
      const dir = runDir(config.workdir, run);
      const branch = runBranch(run);
      try {
        await syncMirror(mirror, repo.url, hooks?.signal);
        const base = run.spec.base ?? repo.base ?? (await defaultBranch(mirror, repo.url, hooks?.signal));
        const baseRef = (await refExists(mirror, `${REMOTE_NS}/${base}`)) ? `${REMOTE_NS}/${base}` : base;
        if (!(await refExists(mirror, baseRef)))
          throw new GitError(`base "${base}" does not exist in ${repo.name}`, [], "");
        const baseSha = await revParse(mirror, baseRef);
        const worktree = join(dir, "wt");
        const home = join(dir, "home");
        await rm(dir, { recursive: true, force: true });
        await mkdir(home, { recursive: true });
        await addWorktree(mirror, worktree, branch, baseSha);
        const refsBefore = ownRefs(await listRefs(mirror), branch);
        return {
          runId: run.run_id,
          specId: run.spec_id,
          attempt: run.attempt,
          branch,
          worktree,
          home,
          baseSha,
          refsBefore,
        };
      } catch (err) {
        return asGitFailure(err);
      }
    },

    async preflight(run, prepared, hooks): Promise<PreflightOutcome> {
      hooks?.heartbeat?.("preflight");
      const harness = deps.harnessFor(harnessName(run));
      const r = await harness.preflight({
        cwd: prepared.worktree,
        provider: providerOf(run),
        model: modelOf(run),
        home: prepared.home,
        signal: hooks?.signal,
        gitIdentity: config.gitIdentity,
        timeoutMs: config.preflightTimeoutMs,
        prompt: deps.buildPreflightPrompt?.(run.spec.body),
      });
      log(
        `run ${runLabel(run)} preflight ${r.ok ? "ok" : `failed: ${r.failure.message}`} (${secs(r.durationMs)})`,
      );
      return r.ok ? { ok: true } : { ok: false, failure: r.failure };
    },

    async runHarness(run, prepared, hooks): Promise<HarnessOutcome> {
      hooks?.heartbeat?.("harness");
      const harness = deps.harnessFor(harnessName(run));
      const r = await harness.run({
        cwd: prepared.worktree,
        prompt: deps.buildPrompt(run.spec, run.feedback),
        provider: providerOf(run),
        model: modelOf(run),
        home: prepared.home,
        timeoutMs: run.spec.timeout_s * 1000,
        signal: hooks?.signal,
        gitIdentity: config.gitIdentity,
      });
      log(
        `run ${runLabel(run)} harness ${harness.name} ${r.ok ? "ok" : `failed (${r.failure?.kind}): ${r.failure?.message}`} (${secs(r.durationMs)})`,
      );
      return { ok: r.ok, failure: r.failure, usage: r.usage, logTail: r.logTail, durationMs: r.durationMs };
    },

    async runGates(run, prepared, harness, hooks): Promise<GateOutcome> {
      hooks?.heartbeat?.("gates");
      const repo = repoOf(run);
      const mirror = mirrorPath(config.workdir, repo.name);
      try {
        const ref = `refs/heads/${prepared.branch}`;
        const headSha = await revParse(mirror, ref);
        if (!deps.runGates) {
          const s = await branchSummary(mirror, prepared.baseSha, headSha);
          return { outcome: "passed", flags: [], commits: s.commits, diffstat: s.diffstat, headSha };
        }
        const refsAfter = ownRefs(await listRefs(mirror), prepared.branch);
        const settings: Partial<GateSettings> = run.gates;
        const report = await deps.runGates({
          repoDir: prepared.worktree,
          base: prepared.baseSha,
          head: headSha,
          spec: run.spec,
          settings,
          harnessSucceeded: harness.ok,
          refsBefore: prepared.refsBefore,
          refsAfter,
          runRef: ref,
          recentPatchIds: run.recent_patch_ids,
          specId: run.spec_id,
          testCommand: repo.test,
          runTests: Boolean(repo.test),
          testDir: prepared.worktree,
          signal: hooks?.signal,
        });
        const flagged = report.flags.map((f) => `${f.gate}:${f.action}`).join(" ");
        log(`run ${runLabel(run)} gates ${report.outcome}${flagged ? ` ${flagged}` : ""}`);
        return { ...report, headSha };
      } catch (err) {
        return asGitFailure(err);
      }
    },

    async pushBranch(run, prepared, hooks) {
      hooks?.heartbeat?.("pushing");
      const repo = repoOf(run);
      const mirror = mirrorPath(config.workdir, repo.name);
      try {
        const headSha = await revParse(mirror, `refs/heads/${prepared.branch}`);
        await gitPush(mirror, repo.url, prepared.branch, hooks?.signal);
        log(`run ${runLabel(run)} pushed ${prepared.branch} ${headSha.slice(0, 10)}`);
        return { branch: prepared.branch, headSha };
      } catch (err) {
        return asGitFailure(err);
      }
    },

    async reportVerdict(run, verdict: VerdictRequest, hooks): Promise<ReportOutcome> {
      hooks?.heartbeat?.("reporting");
      const entry = deps.spool.write({
        run_id: run.run_id,
        spec_id: run.spec_id,
        attempt: run.attempt,
        verdict,
      });
      const r = await deps.spool.send(entry);
      const what = `${verdict.outcome}${verdict.failure ? ` (${verdict.failure.kind})` : ""}`;
      if (r.state === "acknowledged") {
        log(`run ${runLabel(run)} verdict ${what} → ${r.status}`);
        return { accepted: true, status: r.status };
      }
      if (r.state === "refused") {
        log(`run ${runLabel(run)} verdict ${what} refused: ${r.httpStatus} ${r.code}`);
        return {
          accepted: false,
          reason: r.code === "lease_lost" ? "lease_lost" : "refused",
          detail: r.code,
        };
      }
      log(`run ${runLabel(run)} verdict ${what} spooled: ${r.error}`);
      deps.spool.kick();
      return { accepted: false, reason: "spooled", detail: r.error };
    },

    async cleanup(run, prepared, keep) {
      const repo = config.repos[run.spec.repo];
      const dir = runDir(config.workdir, run);
      if (!repo) return;
      const mirror = mirrorPath(config.workdir, repo.name);
      if (!keep) {
        if (existsSync(prepared.worktree)) await removeWorktree(mirror, prepared.worktree);
        await deleteBranch(mirror, prepared.branch);
        await rm(dir, { recursive: true, force: true });
        return;
      }
      await writeFile(join(dir, "kept"), `${new Date().toISOString()}\n`).catch(() => undefined);
      await pruneKept(config.workdir, config.keepFailed, log);
    },
  };
}

/** Keeps the newest `limit` failed runs' worktrees; removes older ones with their branches. */
async function pruneKept(workdir: string, limit: number, log: (line: string) => void): Promise<void> {
  const root = join(workdir, "runs");
  const kept: { name: string; at: number }[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const marker = join(root, name, "kept");
    const s = await stat(marker).catch(() => undefined);
    if (s) kept.push({ name, at: s.mtimeMs });
  }
  kept.sort((a, b) => b.at - a.at);
  for (const old of kept.slice(limit)) {
    const dir = join(root, old.name);
    const mirrors = await readdir(join(workdir, "mirrors")).catch(() => [] as string[]);
    for (const m of mirrors) {
      const mirror = join(workdir, "mirrors", m);
      await removeWorktree(mirror, join(dir, "wt")).catch(() => undefined);
      await deleteBranch(mirror, `mtor/${old.name}`);
    }
    await rm(dir, { recursive: true, force: true });
    log(`run ${old.name} kept worktree removed (keeping ${limit})`);
  }
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
