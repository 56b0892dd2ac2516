// The gates (docs/gates.md): `runGates` runs every gate the settings leave on against a branch and
// returns the verdict's outcome, flags, commit count, diffstat and patch id.
import {
  DEFAULT_COMMIT_CAP,
  DEFAULT_GATES,
  GATE_NAMES,
  type GateFlag,
  type GateName,
  type GateSetting,
} from "@mtor/schema";
import { type Change, headPath, loadChange } from "./change";
import { checkDestruction } from "./destruction";
import { checkDuplicate } from "./duplicate";
import { existsAt, gitRaw, netPatchId } from "./git";
import { checkDefaultBranch, compareRefs } from "./refs";
import { checkTests } from "./run-tests";
import { inScope } from "./scope";
import { checkTestNames, testsAdded } from "./tests-named";
import type { Finding, GateContext, GateReport } from "./types";

export { feedbackFor } from "./feedback";
export { GitError, listRefs } from "./git";
export type { Finding, GateContext, GateReport, RefSnapshot } from "./types";

/** The gates `runGates` runs; `spec_lint` belongs to the control plane at dispatch. */
export const EXECUTOR_GATES: readonly GateName[] = GATE_NAMES.filter((g) => g !== "spec_lint");

/**
 * Runs the gates. Throws `GitError` when base or head is not a commit of the repository;
 * everything else a gate finds becomes a flag. Outcome `rejected` iff a flag has action reject.
 */
export async function runGates(ctx: GateContext): Promise<GateReport> {
  const setting = (g: GateName): GateSetting => ctx.settings[g] ?? DEFAULT_GATES[g];
  const on = (g: GateName) => setting(g).action !== "off";

  const ch = await loadChange(ctx.repoDir, ctx.base, ctx.head);
  const diffstat = {
    files: ch.files.length,
    insertions: ch.files.reduce((n, f) => n + f.insertions, 0),
    deletions: ch.files.reduce((n, f) => n + f.deletions, 0),
  };
  // Computed beside the gates; only `duplicate` waits for it.
  const patchIdOf = ch.files.length > 0 ? netPatchId(ctx.repoDir, ch.mergeBase, ch.headSha) : undefined;
  patchIdOf?.catch(() => undefined);

  const findings: Finding[] = [];
  const baseName = refLabel(ctx.base);
  const headName = ctx.runRef ? ctx.runRef.replace(/^refs\/heads\//, "") : refLabel(ctx.head);

  // Nothing to review: later gates would only restate it.
  let nothing = false;
  if (ch.commits === 0) {
    nothing = true;
    if (ctx.harnessSucceeded && on("no_commit_on_success")) {
      const dirty = await uncommitted(ctx.repoDir, ch.headSha);
      const left =
        dirty > 0 ? ` (${dirty === 1 ? "1 file" : `${dirty} files`} changed but never committed)` : "";
      findings.push({
        gate: "no_commit_on_success",
        detail: `${headName} has no commit on top of ${baseName}${left}`,
        facts: { kind: "no_commit", uncommitted_files: dirty },
      });
    }
  } else if (ch.files.length === 0) {
    nothing = true;
    if (on("empty_diff")) {
      findings.push({
        gate: "empty_diff",
        detail: `${ch.commits === 1 ? "1 commit" : `${ch.commits} commits`} but no net change against ${baseName}`,
        facts: { kind: "empty_diff", commits: ch.commits },
      });
    }
  }

  // The gates below only read the repository: they run side by side, and their findings keep
  // this order.
  const checks: (Promise<Finding[]> | Finding[])[] = [];
  if (!nothing) {
    if (on("destruction")) checks.push(checkDestruction(ch, ctx.spec));
    if (on("target_file_missing")) checks.push(checkTargets(ch, ctx.spec.targets));
    if (on("tests_missing") || on("tests_extra")) {
      const { missing, extra } = checkTestNames(testsAdded(ch), ctx.spec.tests);
      if (on("tests_missing")) checks.push(missing);
      if (on("tests_extra")) checks.push(extra);
    }
    if (on("duplicate")) {
      checks.push(
        Promise.resolve(patchIdOf).then((patchId) =>
          checkDuplicate(ch, { patchId, recentPatchIds: ctx.recentPatchIds, specId: ctx.specId }),
        ),
      );
    }
    if (on("out_of_scope") && ctx.spec.paths && ctx.spec.paths.length > 0) {
      checks.push(checkScope(ch, ctx.spec.paths));
    }
  }
  const cap = ctx.commitCap ?? DEFAULT_COMMIT_CAP;
  if (on("commit_flood") && ch.commits > cap) {
    checks.push([
      {
        gate: "commit_flood",
        detail: `${ch.commits} commits, over the cap of ${cap}`,
        facts: { kind: "commit_flood", commits: ch.commits, cap },
      },
    ]);
  }
  if (on("protected_branch_touched")) {
    if (ctx.refsBefore && ctx.refsAfter) checks.push(compareRefs(ctx.refsBefore, ctx.refsAfter, ctx.runRef));
    checks.push(checkDefaultBranch(ctx.repoDir, ctx.head, ctx.runRef));
  }
  if (!nothing && ctx.runTests && ctx.testCommand && on("tests_failed")) {
    checks.push(
      checkTests({
        command: ctx.testCommand,
        repoDir: ctx.repoDir,
        headSha: ch.headSha,
        dir: ctx.testDir,
        timeoutMs: ctx.testTimeoutMs,
        env: ctx.testEnv,
        sandbox: ctx.testSandbox,
        signal: ctx.signal,
      }),
    );
  }
  for (const found of await Promise.all(checks)) findings.push(...found);
  const patchId = await patchIdOf;

  const flags: GateFlag[] = findings.map((f) => ({
    gate: f.gate,
    action: setting(f.gate).action,
    detail: f.detail,
    ...(f.facts ? { facts: f.facts } : {}),
  }));
  return {
    outcome: flags.some((f) => f.action === "reject") ? "rejected" : "passed",
    flags,
    commits: ch.commits,
    diffstat,
    patchId,
    baseSha: ch.baseSha,
    headSha: ch.headSha,
    mergeBase: ch.mergeBase,
  };
}

async function checkTargets(ch: Change, targets: readonly string[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const changed = ch.files
    .flatMap((f) => [headPath(f), f.status === "D" ? f.path : undefined])
    .filter((p): p is string => p !== undefined);
  for (const raw of targets) {
    const t = raw.replace(/^\.?\//, "").replace(/\/+$/, "");
    if (!(await existsAt(ch.repoDir, ch.headSha, t))) {
      findings.push({
        gate: "target_file_missing",
        detail: `target ${t} does not exist at head`,
        facts: { kind: "target_missing", file: t },
      });
    } else if (!changed.some((p) => p === t || p.startsWith(`${t}/`))) {
      findings.push({
        gate: "target_file_missing",
        detail: `target ${t} was not changed`,
        facts: { kind: "target_unchanged", file: t },
      });
    }
  }
  return findings;
}

function checkScope(ch: Change, paths: readonly string[]): Finding[] {
  const outside = new Set<string>();
  for (const f of ch.files) {
    for (const p of [f.path, f.oldPath]) if (p && !inScope(p, paths)) outside.add(p);
  }
  if (outside.size === 0) return [];
  const list = [...outside];
  const shown = list.slice(0, 6).join(", ") + (list.length > 6 ? ` and ${list.length - 6} more` : "");
  return [
    {
      gate: "out_of_scope",
      detail: `changed ${list.length === 1 ? "a file" : `${list.length} files`} outside paths [${paths.join(", ")}]: ${shown}`,
      facts: { kind: "out_of_scope", paths: [...paths], files: list },
    },
  ];
}

/** Files left uncommitted in repoDir's worktree, when that worktree is at head (else 0). */
async function uncommitted(repoDir: string, headSha: string): Promise<number> {
  const at = await gitRaw(repoDir, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  if (at.code !== 0 || at.stdout.trim() !== headSha) return 0;
  const st = await gitRaw(repoDir, ["status", "--porcelain", "-z", "--untracked-files=all"]);
  if (st.code !== 0) return 0;
  return st.stdout.split("\0").filter((e) => /^.. /.test(e)).length;
}

/** How a ref reads in a flag: a branch name as given, a full sha shortened. */
export function refLabel(ref: string): string {
  return /^[0-9a-f]{40}$/i.test(ref) ? ref.slice(0, 7) : ref;
}
