// The contract between the run pipeline (and `mtor gate`) and the gate checks (docs/gates.md).
import type { Diffstat, GateFacts, GateFlag, GateName, GateSettings, Spec } from "@mtor/schema";
import type { SandboxRun } from "../harness/process";

/** Refs as `listRefs` returns them, or as a plain record (what crosses Temporal's wire). */
export type RefSnapshot = Map<string, string> | Record<string, string>;

export interface GateContext {
  /** A git repository (or worktree) holding both base and head. */
  repoDir: string;
  /** Base ref or sha the branch started from. */
  base: string;
  /** Head ref or sha of the run's branch. */
  head: string;
  /** `removes` is optional so specs stored before it existed still gate. */
  spec: Pick<Spec, "targets" | "tests" | "paths" | "body"> & { removes?: readonly string[] };
  /** Settings from the claim; a gate missing here runs with its DEFAULT_GATES setting. */
  settings: Partial<GateSettings>;
  /** Whether the harness itself ended successfully (for no_commit_on_success). */
  harnessSucceeded: boolean;
  /** Every ref of the repository before and after the run (for protected_branch_touched). */
  refsBefore?: RefSnapshot;
  refsAfter?: RefSnapshot;
  /** The run's own branch ref, e.g. refs/heads/mtor/k3f9x2ab-1, excluded from the ref check. */
  runRef?: string;
  /** The spec being run: entries of recentPatchIds from the same spec are not duplicates. */
  specId?: string;
  /** Patch ids of other specs' recent branches, sent with the claim. */
  recentPatchIds?: { spec_id: string; patch_id: string }[];
  /** The repo's test command (run with `sh -c`); run only when runTests is true. */
  testCommand?: string;
  runTests: boolean;
  /**
   * Where to run the test command: a checkout of head with its dependencies installed (the
   * run's worktree). Without it a temporary detached worktree of head is made and removed.
   */
  testDir?: string;
  /** Default 10 minutes; the command's whole process group is killed when it elapses. */
  testTimeoutMs?: number;
  /** Environment of the test command; default: PATH, HOME, TMPDIR, locale and CI=1, no secrets. */
  testEnv?: NodeJS.ProcessEnv;
  /** The sandbox the test command runs in (the run's); without it, as the caller's own child. */
  testSandbox?: SandboxRun;
  /** Aborts the test command (run cancelled). */
  signal?: AbortSignal;
  commitCap?: number;
}

export interface GateReport {
  outcome: "passed" | "rejected";
  flags: GateFlag[];
  /** Commits on head that base does not have. */
  commits: number;
  /** Net change from the merge base of base and head to head. */
  diffstat: Diffstat;
  /** `git patch-id --stable` of the net diff base...head, when there is one. */
  patchId?: string;
  baseSha: string;
  headSha: string;
  mergeBase: string;
}

/** What one gate check found, before its action is applied. */
export interface Finding {
  gate: GateName;
  detail: string;
  /** The same finding as data, for the next attempt's instructions (feedbackFor). */
  facts?: GateFacts;
}
