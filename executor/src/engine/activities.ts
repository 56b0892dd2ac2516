// The steps of one run as plain functions over plain data, built from `createActivities(deps)`:
// the local engine calls them in-process and the Temporal engine registers them as activities.
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ClaimedRun,
  DEFAULT_COMMIT_CAP,
  type GateFlag,
  type GateSettings,
  type RunPatch,
  type Spec,
  type VerdictRequest,
} from "@mtor/schema";
import type { ExecutorConfig, RepoConfig } from "../config";
import type { VerdictSpool } from "../daemon/spool";
import type { GateContext, GateReport } from "../gates/types";
import {
  branchSummary,
  defaultBranchOf,
  deleteRef,
  ensureMirror,
  GitError,
  git,
  hasCommit,
  lsRemote,
  lsRemoteWithHead,
  pushSha,
  REMOTE_NS,
  RUNS_NS,
  refExists,
  revParse,
  setRef,
  syncMirror,
  takeWork,
  withLock,
} from "../git";
import { gitRaw } from "../git/exec";
import { branchPatch, fitVerdict } from "../git/patch";
import { WorkspacePool } from "../git/pool";
import { runProcess, type SandboxRun } from "../harness/process";
import type { Harness, ProviderConfig } from "../harness/types";
import { ReviewBreaker, type ReviewerConfig, reviewAfterGates } from "../review";
import type { Sandbox } from "../sandbox";
import type {
  GateOutcome,
  HarnessOutcome,
  OriginCheck,
  PreflightOutcome,
  PreparedRun,
  ReportOutcome,
  RunActivities,
} from "./types";

export interface ActivityDeps {
  config: Pick<
    ExecutorConfig,
    "workdir" | "repos" | "providers" | "keepFailed" | "preflightTimeoutMs" | "gitIdentity"
  > &
    Partial<Pick<ExecutorConfig, "preflightRetries" | "preflightRetryMs" | "stopRunaways">>;
  spool: VerdictSpool;
  /** Where harnesses and test commands run: the bwrap sandbox, or "none" when the config says so. */
  sandbox: Sandbox;
  /** The adapter for a harness name (claude, opencode, a command harness). */
  harnessFor(name: string): Harness;
  /** The prompt for a spec, with the notes and the rejected attempt's flags the claim carried. */
  buildPrompt(spec: Spec, feedback: Pick<ClaimedRun, "feedback" | "feedback_flags">): string;
  /** The preflight's prompt for a spec (carries e.g. the demo provider's directive). */
  buildPreflightPrompt?: (body: string) => string;
  /** The gate checks; when absent the run has no gates and passes on the harness alone. */
  runGates?: (ctx: GateContext) => Promise<GateReport>;
  /** The reviewer model that grades a change whose gates passed (`[review]` in the config). */
  reviewer?: ReviewerConfig;
  log?: (line: string) => void;
}

/** The origin's refs, and the branch its HEAD names. */
type Listing = Awaited<ReturnType<typeof lsRemoteWithHead>>;

/** How long a run's origin listing waits for its second user (prepare or preflight). */
const LISTING_KEEP_MS = 10 * 60_000;

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

/**
 * What moved on the origin between two `ls-remote`s, other than the run's own branch. Other runs'
 * new `mtor/` branches are their executors' pushes and are left out; anything else created, moved
 * or deleted is flagged.
 */
export function originMoves(
  before: Record<string, string>,
  after: Record<string, string>,
  runRef: string,
): GateFlag[] {
  const flags: GateFlag[] = [];
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const name of names) {
    if (name === runRef) continue;
    const was = before[name];
    const now = after[name];
    if (was === now) continue;
    if (was === undefined && name.startsWith("refs/heads/mtor/")) continue;
    const detail =
      was === undefined
        ? `the origin gained ${name} at ${now.slice(0, 10)} during the run`
        : now === undefined
          ? `the origin lost ${name} (was ${was.slice(0, 10)}) during the run`
          : `the origin's ${name} moved from ${was.slice(0, 10)} to ${now.slice(0, 10)} during the run`;
    const change = was === undefined ? "created" : now === undefined ? "deleted" : "moved";
    flags.push({
      gate: "protected_branch_touched",
      action: "reject",
      detail,
      facts: { kind: "ref_changed", ref: name, change },
    });
  }
  return flags;
}

export function createActivities(deps: ActivityDeps): RunActivities {
  const { config } = deps;
  const log = deps.log ?? (() => {});
  // One per executor: a reviewer that is down stops being asked for a while.
  const reviewBreaker = new ReviewBreaker();

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

  const sandboxOf = (prepared: PreparedRun): SandboxRun => ({
    sandbox: deps.sandbox,
    place: { workspace: prepared.workspace, home: prepared.home },
  });

  /** The origin's refs now against those at the start: what the run must not have touched. */
  const checkOrigin = async (run: ClaimedRun, before: Record<string, string>, signal?: AbortSignal) => {
    const repo = repoOf(run);
    const after = await lsRemote(mirrorPath(config.workdir, repo.name), repo.url, signal);
    const moved = originMoves(before, after, `refs/heads/${runBranch(run)}`);
    for (const f of moved) log(`run ${runLabel(run)} SECURITY: ${f.detail}`);
    return { moved, after };
  };

  // Prepared workspaces, reset per run; shared by every run of this executor.
  const pool = new WorkspacePool(join(config.workdir, "pool"));

  // One listing of the origin per run serves both prepareWorktree (base's tip) and the preflight
  // (the origin's refs before anything of the agent's runs): the first of the two to ask starts
  // it, the second takes it. A run whose second never asks leaves its entry for LISTING_KEEP_MS.
  const listings = new Map<string, { at: number; listing: Promise<Listing> }>();
  const originListing = (run: ClaimedRun, signal?: AbortSignal): Promise<Listing> => {
    const had = listings.get(run.run_id);
    if (had) {
      listings.delete(run.run_id);
      return had.listing;
    }
    const now = Date.now();
    for (const [id, l] of listings) if (now - l.at > LISTING_KEEP_MS) listings.delete(id);
    const repo = repoOf(run);
    const mirror = mirrorPath(config.workdir, repo.name);
    const listing = ensureMirror(mirror).then(() => lsRemoteWithHead(mirror, repo.url, signal));
    listing.catch(() => undefined);
    listings.set(run.run_id, { at: now, listing });
    return listing;
  };

  return {
    async prepareWorktree(run, hooks) {
      hooks?.heartbeat?.("preparing");
      if (deps.sandbox.kind === "none")
        log(
          `run ${runLabel(run)} WARNING: sandbox = "none": the harness runs as this executor's user and can read its secrets and files`,
        );
      const repo = repoOf(run);
      const mirror = mirrorPath(config.workdir, repo.name);
      const dir = runDir(config.workdir, run);
      const branch = runBranch(run);
      try {
        // One listing of the origin gives its refs before the run, its default branch and base's
        // tip; the mirror fetches only when it lacks that tip (or base is not a branch).
        const listing = await originListing(run, hooks?.signal);
        const originBefore = listing.refs;
        const base = run.spec.base ?? repo.base ?? defaultBranchOf(listing);
        const tip = originBefore[`refs/heads/${base}`];
        let baseSha: string;
        if (tip && (await hasCommit(mirror, tip))) {
          // The mirror has base's tip: that is the start, no fetch and no ref to read back.
          await withLock(mirror, () => setRef(mirror, `${REMOTE_NS}/${base}`, tip));
          baseSha = tip;
        } else {
          await syncMirror(mirror, repo.url, hooks?.signal);
          const baseRef = (await refExists(mirror, `${REMOTE_NS}/${base}`)) ? `${REMOTE_NS}/${base}` : base;
          if (!(await refExists(mirror, baseRef)))
            throw new GitError(`base "${base}" does not exist in ${repo.name}`, [], "");
          baseSha = await revParse(mirror, baseRef);
        }
        const home = join(dir, "home");
        await rm(home, { recursive: true, force: true });
        await mkdir(home, { recursive: true });
        const { workspace, reused } = await pool.acquire(repo.name, mirror, branch, baseSha, hooks?.signal);
        log(`run ${runLabel(run)} workspace ${reused ? "reset from the pool" : "checked out fresh"}`);
        return {
          runId: run.run_id,
          specId: run.spec_id,
          attempt: run.attempt,
          branch,
          workspace,
          home,
          base,
          baseSha,
          runRef: `${RUNS_NS}/${runLabel(run)}`,
          originBefore,
        };
      } catch (err) {
        return asGitFailure(err);
      }
    },

    async preflight(run, hooks): Promise<PreflightOutcome> {
      hooks?.heartbeat?.("preflight");
      // The origin's refs before anything of the agent's runs (the probe is a model too). The
      // probe starts at once, but its provider tap sends nothing before this listing is in; a
      // listing that fails stops the probe.
      const listing = originListing(run, hooks?.signal);
      // A scratch directory of its own, so the probe need not wait for the workspace.
      const place = join(runDir(config.workdir, run), "preflight");
      await rm(place, { recursive: true, force: true });
      await mkdir(place, { recursive: true });
      const harness = deps.harnessFor(harnessName(run));
      const probe = () =>
        harness.preflight({
          cwd: place,
          provider: providerOf(run),
          model: modelOf(run),
          home: place,
          signal: hooks?.signal,
          gitIdentity: config.gitIdentity,
          timeoutMs: config.preflightTimeoutMs,
          prompt: deps.buildPreflightPrompt?.(run.spec.body),
          sandbox: { sandbox: deps.sandbox, place: { workspace: place, home: place } },
          holdUntil: listing,
        });
      let r: Awaited<ReturnType<typeof probe>>;
      try {
        r = await probe();
        // preflight_retries: the same slot tries again (never after a cancel or a lost lease).
        for (let tries = 0; !r.ok && tries < (config.preflightRetries ?? 0); tries++) {
          if (hooks?.signal?.aborted || r.failure.kind === "canceled") break;
          log(`run ${runLabel(run)} preflight failed: ${r.failure.message}; trying again in the same slot`);
          await abortableSleep(config.preflightRetryMs ?? 0, hooks?.signal);
          if (hooks?.signal?.aborted) break;
          r = await probe();
        }
      } finally {
        await rm(place, { recursive: true, force: true }).catch(() => undefined);
      }
      const originBefore = (await listing.catch(asGitFailure)).refs;
      log(
        `run ${runLabel(run)} preflight ${r.ok ? "ok" : `failed: ${r.failure.message}`} (${secs(r.durationMs)})`,
      );
      if (r.ok) return { ok: true, originBefore };
      // The harness will not run: this is the run's last look at the origin.
      const { moved } = await checkOrigin(run, originBefore, hooks?.signal).catch(asGitFailure);
      return { ok: false, failure: r.failure, ...(moved.length ? { security: moved } : {}) };
    },

    async runHarness(run, prepared, hooks, cleared): Promise<HarnessOutcome> {
      // Started before the preflight passed, the harness is "harness" only once it has: until
      // then its tap holds every request, and a probe that fails stops it.
      Promise.resolve(cleared).then(
        () => hooks?.heartbeat?.("harness"),
        () => undefined,
      );
      const harness = deps.harnessFor(harnessName(run));
      // A model looping on commits is stopped once the commit_flood gate is sure to reject it:
      // the gates still judge the branch, and the slot is not held until the timeout.
      const guard =
        config.stopRunaways !== false && run.gates.commit_flood?.action === "reject"
          ? watchCommits(prepared, DEFAULT_COMMIT_CAP, hooks?.signal)
          : undefined;
      let r = await harness
        .run({
          cwd: prepared.workspace,
          prompt: deps.buildPrompt(run.spec, run),
          provider: providerOf(run),
          model: modelOf(run),
          home: prepared.home,
          timeoutMs: run.spec.timeout_s * 1000,
          signal: guard?.signal ?? hooks?.signal,
          gitIdentity: config.gitIdentity,
          sandbox: sandboxOf(prepared),
          holdUntil: cleared,
        })
        .finally(() => guard?.stop());
      const runaway = guard?.tripped();
      if (runaway !== undefined && !hooks?.signal?.aborted) {
        const note = `mtor stopped the harness: ${runaway} commits, over the commit_flood cap of ${DEFAULT_COMMIT_CAP}`;
        r = { ...r, ok: true, failure: undefined, logTail: `${r.logTail ?? ""}\n${note}`.trim() };
        log(`run ${runLabel(run)} ${note}`);
      }
      log(
        `run ${runLabel(run)} harness ${harness.name} ${r.ok ? "ok" : `failed (${r.failure?.kind}): ${r.failure?.message}`} (${secs(r.durationMs)})`,
      );
      return {
        ok: r.ok,
        failure: r.failure,
        usage: r.usage,
        logTail: r.logTail,
        durationMs: r.durationMs,
        ...(r.heldMs ? { heldMs: r.heldMs } : {}),
      };
    },

    async checkOrigin(run, prepared, hooks): Promise<OriginCheck> {
      // Called once the harness, and everything it started, is gone: the origin cannot move on
      // the agent's behalf after this listing.
      const { moved, after } = await checkOrigin(run, prepared.originBefore, hooks?.signal).catch(
        asGitFailure,
      );
      const baseTip = after[`refs/heads/${prepared.base}`];
      return { ...(baseTip ? { baseTip } : {}), ...(moved.length ? { security: moved } : {}) };
    },

    async runGates(run, prepared, harness, hooks, baseTip): Promise<GateOutcome> {
      hooks?.heartbeat?.("gates");
      const repo = repoOf(run);
      const mirror = mirrorPath(config.workdir, repo.name);
      try {
        // Only objects cross from the workspace; from here on the gated sha is fixed in the mirror.
        const headSha =
          (await takeWork(mirror, prepared.workspace, prepared.branch, prepared.runRef, hooks?.signal)) ??
          prepared.baseSha;
        if (!deps.runGates) {
          const s = await branchSummary(mirror, prepared.baseSha, headSha);
          const patch = await patchOf(mirror, prepared.baseSha, headSha, s.diffstat.files);
          return { outcome: "passed", flags: [], commits: s.commits, diffstat: s.diffstat, headSha, patch };
        }
        const base = await fetchBaseTip(mirror, repo.url, prepared, await baseTip, hooks?.signal);
        if (repo.test) await checkoutInSandbox(prepared, headSha, hooks?.signal);
        const settings: Partial<GateSettings> = run.gates;
        const report = await deps.runGates({
          repoDir: mirror,
          base,
          head: headSha,
          spec: run.spec,
          settings,
          harnessSucceeded: harness.ok,
          runRef: `refs/heads/${prepared.branch}`,
          recentPatchIds: run.recent_patch_ids,
          specId: run.spec_id,
          testCommand: repo.test,
          runTests: Boolean(repo.test),
          testDir: prepared.workspace,
          testSandbox: sandboxOf(prepared),
          signal: hooks?.signal,
        });
        // The patch is read while the reviewer (if any) grades the change.
        const patching = patchOf(mirror, report.mergeBase, headSha, report.diffstat.files);
        patching.catch(() => undefined);
        const reviewed = await reviewAfterGates(
          deps.reviewer,
          run.gates.review,
          { spec: run.spec, repoDir: mirror, mergeBase: report.mergeBase, headSha },
          report,
          { signal: hooks?.signal, breaker: reviewBreaker },
        );
        const flagged = reviewed.flags.map((f) => `${f.gate}:${f.action}`).join(" ");
        const graded = reviewed.review ? ` review ${reviewed.review.grade ?? reviewed.review.error}` : "";
        log(`run ${runLabel(run)} gates ${reviewed.outcome}${flagged ? ` ${flagged}` : ""}${graded}`);
        const patch = await patching;
        return { ...report, ...reviewed, headSha, patch };
      } catch (err) {
        return asGitFailure(err);
      }
    },

    async pushBranch(run, prepared, hooks) {
      hooks?.heartbeat?.("pushing");
      const repo = repoOf(run);
      const mirror = mirrorPath(config.workdir, repo.name);
      try {
        // The sha the gates saw, kept in the mirror where the agent cannot reach it.
        const headSha = await revParse(mirror, prepared.runRef);
        await pushSha(mirror, repo.url, headSha, prepared.branch, hooks?.signal);
        log(`run ${runLabel(run)} pushed ${prepared.branch} ${headSha.slice(0, 10)}`);
        return { branch: prepared.branch, headSha };
      } catch (err) {
        return asGitFailure(err);
      }
    },

    async reportVerdict(run, reported: VerdictRequest, hooks): Promise<ReportOutcome> {
      hooks?.heartbeat?.("reporting");
      const verdict = fitVerdict(reported);
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
      await deleteRef(mirror, prepared.runRef);
      if (!keep) {
        // The slot's next `.git` is cloned here, after the verdict, not in the next run's prepare.
        await pool.release(repo.name, prepared.workspace, mirror);
        await rm(dir, { recursive: true, force: true });
        return;
      }
      await pool.detach(prepared.workspace, join(dir, "ws"));
      await writeFile(join(dir, "kept"), `${new Date().toISOString()}\n`).catch(() => undefined);
      await pruneKept(config.workdir, config.keepFailed, log);
    },
  };

  /**
   * The base branch's tip on the origin now, so the gates compare the change with what base has
   * become during the run (the duplicate gate's "already on base"); the start sha when base is not
   * a branch the origin has. `listed` is the tip the origin listed after the harness, if it did.
   */
  async function fetchBaseTip(
    mirror: string,
    url: string,
    prepared: PreparedRun,
    listed: string | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    // Base has not moved since the workspace was prepared from it: the mirror has it already.
    if (listed === prepared.baseSha) return listed;
    const ref = `${REMOTE_NS}/${prepared.base}`;
    if (!(await refExists(mirror, ref))) return prepared.baseSha;
    // The origin was listed right after the harness: fetch only when the mirror lacks that tip.
    if (listed && (await hasCommit(mirror, listed))) {
      await withLock(mirror, () => setRef(mirror, ref, listed));
      return listed;
    }
    await withLock(mirror, () =>
      git(mirror, ["fetch", "--quiet", "--no-tags", url, `+refs/heads/${prepared.base}:${ref}`], {
        signal,
        remote: true,
      }),
    );
    return revParse(mirror, ref);
  }

  /**
   * Puts the gated sha's files in the workspace for the test command. Run in the sandbox: the
   * workspace's config is the agent's, and only the sandbox may run what it names.
   */
  async function checkoutInSandbox(prepared: PreparedRun, sha: string, signal?: AbortSignal): Promise<void> {
    const p = await runProcess({
      command: "git",
      args: [
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
        "checkout",
        "--quiet",
        "--force",
        "--detach",
        sha,
      ],
      cwd: prepared.workspace,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: prepared.home, GIT_CONFIG_NOSYSTEM: "1" },
      timeoutMs: 5 * 60_000,
      signal,
      sandbox: sandboxOf(prepared),
    });
    if (p.exitCode !== 0)
      throw new GitError(
        `could not check out ${sha.slice(0, 10)} in the workspace for the tests: ${p.tail.trim()}`,
        [],
        p.stderr,
      );
  }
}

/** Keeps the newest `limit` failed runs' workspaces; removes older ones. */
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
    await rm(join(root, old.name), { recursive: true, force: true });
    log(`run ${old.name} kept workspace removed (keeping ${limit})`);
  }
}

/** The patch a verdict carries; none when the run changed no file. */
async function patchOf(
  mirror: string,
  base: string,
  head: string,
  files: number,
): Promise<RunPatch | undefined> {
  return files > 0 ? branchPatch(mirror, base, head) : undefined;
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Waits `ms`, or less when `signal` aborts first. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** How often the runaway guard counts the branch's commits while the harness runs. */
export const RUNAWAY_CHECK_MS = 2000;

/**
 * Counts the run branch's commits in the workspace every RUNAWAY_CHECK_MS (git with the forced
 * settings, reading objects only) and aborts its signal once they pass `cap`; a stop from
 * `parent` (cancel, lost lease) passes through.
 */
function watchCommits(
  prepared: PreparedRun,
  cap: number,
  parent?: AbortSignal,
): { signal: AbortSignal; tripped(): number | undefined; stop(): void } {
  const ctl = new AbortController();
  const onParent = () => ctl.abort(parent?.reason);
  if (parent?.aborted) onParent();
  parent?.addEventListener("abort", onParent, { once: true });
  let commits: number | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || ctl.signal.aborted) return;
    busy = true;
    gitRaw(
      prepared.workspace,
      ["rev-list", "--count", `${prepared.baseSha}..refs/heads/${prepared.branch}`],
      {
        timeoutMs: RUNAWAY_CHECK_MS * 5,
      },
    )
      .then((r) => {
        const n = Number(r.stdout.trim());
        if (r.code === 0 && Number.isFinite(n) && n > cap && !ctl.signal.aborted) {
          commits = n;
          ctl.abort(new Error(`${n} commits, over the cap of ${cap}`));
        }
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, RUNAWAY_CHECK_MS);
  return {
    signal: ctl.signal,
    tripped: () => commits,
    stop: () => {
      clearInterval(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}
