// The contract between the run pipeline (and `mtor gate`) and the gate checks of design §9.
import type { Diffstat, GateFlag, GateSettings, Spec } from "@mtor/schema";

export interface GateContext {
  /** A git repository (or worktree) holding both base and head. */
  repoDir: string;
  /** Base ref or sha the branch started from. */
  base: string;
  /** Head ref or sha of the run's branch. */
  head: string;
  spec: Pick<Spec, "targets" | "tests" | "paths" | "body">;
  settings: GateSettings;
  /** Whether the harness itself ended successfully (for no_commit_on_success). */
  harnessSucceeded: boolean;
  /** Every ref of the repository before and after the run (for protected_branch_touched). */
  refsBefore?: Map<string, string>;
  refsAfter?: Map<string, string>;
  /** The run's own branch ref, e.g. refs/heads/mtor/k3f9x2ab-1, excluded from the ref check. */
  runRef?: string;
  /** Patch ids of other specs' recent branches, sent with the claim. */
  recentPatchIds?: { spec_id: string; patch_id: string }[];
  /** The repo's test command; run only when runTests is true. */
  testCommand?: string;
  runTests: boolean;
  commitCap?: number;
}

export interface GateReport {
  outcome: "passed" | "rejected";
  flags: GateFlag[];
  commits: number;
  diffstat: Diffstat;
  /** `git patch-id --stable` of the net diff base..head, when there is one. */
  patchId?: string;
}
