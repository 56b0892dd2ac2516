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

// No caps here beyond the verdict's own size limit: a verdict is never refused for its facts.
const name = z.string();
const names = z.array(name);
const lines = z.number().int().min(0);

/**
 * What a gate found, as data: the next attempt's instructions are written from these fields,
 * never by reading `detail` back. `detail` stays the human sentence; a flag without `facts`
 * (an older executor, a hand-written flag) is quoted as written.
 */
export const GateFacts = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("no_commit"), uncommitted_files: lines }),
  z.object({ kind: z.literal("empty_diff"), commits: lines }),
  z.object({
    kind: z.literal("deleted_symbol"),
    symbol_kind: z.enum(["function", "method", "class"]),
    name,
    file: name,
    lines,
    used_in: name.optional(),
  }),
  z.object({
    kind: z.literal("shrank"),
    name,
    file: name,
    /** Where the symbol lives now, when it moved to another file. */
    now_in: name.optional(),
    from_lines: lines,
    to_lines: lines,
    /** What the spec asks to do with it ("extend", "keep", …), when it names it. */
    asked: name.optional(),
  }),
  z.object({ kind: z.literal("deleted_tests"), file: name, tests: names }),
  z.object({ kind: z.literal("unexported"), name, file: name }),
  z.object({ kind: z.literal("deleted_file"), file: name }),
  z.object({ kind: z.literal("net_deletion"), deleted: lines, added: lines }),
  z.object({ kind: z.literal("target_missing"), file: name }),
  z.object({ kind: z.literal("target_unchanged"), file: name }),
  z.object({ kind: z.literal("tests_missing"), tests: names }),
  z.object({ kind: z.literal("tests_extra"), extra: names, named: names }),
  z.object({ kind: z.literal("commit_flood"), commits: lines, cap: lines }),
  z.object({ kind: z.literal("same_as_spec"), spec_id: name }),
  z.object({ kind: z.literal("on_base"), base: name }),
  z.object({ kind: z.literal("ref_changed"), ref: name, change: z.enum(["created", "moved", "deleted"]) }),
  z.object({ kind: z.literal("on_default_branch"), branch: name }),
  z.object({ kind: z.literal("out_of_scope"), paths: names, files: names }),
  z.object({ kind: z.literal("tests_failed"), command: name, why: name, tail: z.string() }),
  z.object({
    kind: z.literal("review"),
    grade: name,
    min_grade: name,
    summary: name.optional(),
    findings: names,
  }),
]);
export type GateFacts = z.infer<typeof GateFacts>;

export const GateFlag = z.object({
  gate: GateName,
  action: GateAction,
  detail: z.string(),
  facts: GateFacts.optional(),
});
export type GateFlag = z.infer<typeof GateFlag>;
