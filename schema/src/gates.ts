// Gate names and their default settings, shared by the control plane (which stores and sends
// them with each claim) and the executor (which runs them).
import { z } from "zod";

export const GATE_NAMES = [
  "no_commit_on_success",
  "empty_diff",
  "destruction",
  "target_file_missing",
  "tests_missing",
  "tests_extra",
  "commit_flood",
  "duplicate",
  "protected_branch_touched",
  "out_of_scope",
  "tests_failed",
  "spec_lint",
  "review",
] as const;

export const GateName = z.enum(GATE_NAMES);
export type GateName = z.infer<typeof GateName>;

export const GateAction = z.enum(["reject", "review", "off"]);
export type GateAction = z.infer<typeof GateAction>;

export const GateSetting = z.object({
  action: GateAction,
  retry: z.boolean(),
});
export type GateSetting = z.infer<typeof GateSetting>;

export type GateSettings = Record<GateName, GateSetting>;

/**
 * Defaults. Runaway gates (tests_extra, commit_flood, duplicate) never retry: another attempt of
 * the same model tends to run away the same way. spec_lint only warns unless set to reject.
 */
export const DEFAULT_GATES: GateSettings = {
  no_commit_on_success: { action: "reject", retry: true },
  empty_diff: { action: "reject", retry: true },
  destruction: { action: "reject", retry: true },
  target_file_missing: { action: "reject", retry: true },
  tests_missing: { action: "reject", retry: true },
  tests_extra: { action: "reject", retry: false },
  commit_flood: { action: "reject", retry: false },
  duplicate: { action: "reject", retry: false },
  protected_branch_touched: { action: "reject", retry: false },
  out_of_scope: { action: "reject", retry: true },
  tests_failed: { action: "reject", retry: true },
  spec_lint: { action: "review", retry: false },
  review: { action: "reject", retry: true },
};

/** Gates whose rejection never retries unless an operator turns retry on explicitly. */
export const RUNAWAY_GATES: readonly GateName[] = ["tests_extra", "commit_flood", "duplicate"];

/** The cap on commits before `commit_flood` flags. */
export const DEFAULT_COMMIT_CAP = 5;

export const GateFlag = z.object({
  gate: GateName,
  action: GateAction,
  detail: z.string(),
});
export type GateFlag = z.infer<typeof GateFlag>;
