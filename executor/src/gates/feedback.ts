// Turns the flags of a rejected attempt into concrete instructions for the next attempt's
// prompt. It reads each flag's `facts` (what the gate found, as data) and never parses
// `detail`; a flag without facts (an older executor, a hand-written flag) yields an
// instruction that quotes its detail.
import type { GateFacts, GateFlag, GateName } from "@mtor/schema";

export function feedbackFor(flags: readonly GateFlag[]): string[] {
  const out: string[] = [];
  for (const f of flags) {
    if (f.action === "off") continue;
    const line = f.facts ? fromFacts(f.facts) : quoted(f.gate, f.detail);
    if (line && !out.includes(line)) out.push(line);
  }
  return out;
}

const list = (names: readonly string[]) => names.join(", ");

function fromFacts(f: GateFacts): string {
  switch (f.kind) {
    case "no_commit":
      return "Commit your work: the last attempt ended without a commit.";
    case "empty_diff":
      return "Make a real change and commit it: the last attempt's commits added up to no change at all.";
    case "deleted_symbol":
      return f.used_in
        ? `Do not delete \`${f.name}\` in ${f.file}; it is still used in ${f.used_in}. Extend it.`
        : `Do not delete \`${f.name}\` in ${f.file}; extend it.`;
    case "shrank": {
      const where = f.now_in ?? f.file;
      const went = `it went from ${f.from_lines} lines to ${f.to_lines}`;
      return f.asked && f.asked !== "keep"
        ? `Do not replace \`${f.name}\` in ${where} with a shorter version (${went}): the spec asks you to ${f.asked} it, so keep its existing logic and add to it.`
        : `Do not replace \`${f.name}\` in ${where} with a shorter version (${went}); keep its existing logic and extend it.`;
    }
    case "deleted_tests":
      return f.tests.length === 1
        ? `Do not delete the test \`${f.tests[0]}\` in ${f.file}; make it pass by fixing the code.`
        : `Do not delete existing tests in ${f.file} (${list(f.tests)}); make them pass by fixing the code.`;
    case "unexported":
      return `Keep \`${f.name}\` in ${f.file} public: code outside the repository may call it.`;
    case "deleted_file":
      return `Do not delete ${f.file}; the spec does not ask for it. Keep the file and change only what the spec asks.`;
    case "net_deletion":
      return `Do not remove existing code: the last attempt deleted ${f.deleted} lines and added ${f.added}. Add to the code instead of rewriting it.`;
    case "target_missing":
      return `Create or keep ${f.file} and put your change there: the spec targets it and it was missing.`;
    case "target_unchanged":
      return `Change ${f.file}: the spec targets it and the last attempt left it untouched.`;
    case "tests_missing":
      return `Add these tests named in the spec, with exactly these names: ${list(f.tests)}.`;
    case "tests_extra":
      return `Add exactly these tests and no others: ${list(f.named)}. Remove the extra ones (${list(f.extra)}).`;
    case "commit_flood":
      return `Make at most ${f.cap} commits (the last attempt made ${f.commits}); stop once the spec's tests pass.`;
    case "same_as_spec":
      return `Do not repeat spec ${f.spec_id}'s change; do what this spec asks that is not done yet.`;
    case "on_base":
      return `Do not redo work that is already on ${f.base}; build on it and do what the spec asks that is not done yet.`;
    case "ref_changed":
      return `Work only on your current branch: do not commit to, create, move or delete ${f.ref}.`;
    case "on_default_branch":
      return `Commit on your own branch, never on ${f.branch}.`;
    case "out_of_scope":
      return `Change only files under ${f.paths.join(", ")}; leave ${f.files.join(", ")} untouched.`;
    case "tests_failed":
      return `Make \`${f.command}\` pass: it failed (${f.why}) with:\n${f.tail}`;
    case "review": {
      const findings = f.findings.map((x) => `- ${x}`).join("\n");
      return `A reviewer graded the last attempt ${f.grade} (the minimum is ${f.min_grade})${f.summary ? `: ${f.summary}` : ""}. Address its findings:${findings ? `\n${findings}` : " make the change do what the spec asks and nothing more."}`;
    }
  }
}

/** A flag that carries no facts: what its gate asks for in general, quoting the detail. */
function quoted(gate: GateName, detail: string): string {
  switch (gate) {
    case "no_commit_on_success":
      return "Commit your work: the last attempt ended without a commit.";
    case "empty_diff":
      return "Make a real change and commit it: the last attempt's commits added up to no change at all.";
    case "destruction":
      return `Do not delete or gut existing code (${detail}).`;
    case "target_file_missing":
      return `Change the spec's target files (${detail}).`;
    case "tests_missing":
      return `Add the tests the spec names (${detail}).`;
    case "tests_extra":
      return `Add exactly the tests the spec names and no others (${detail}).`;
    case "commit_flood":
      return `Make fewer commits (${detail}).`;
    case "duplicate":
      return `Do not redo work that is already on the base branch (${detail}); build on it.`;
    case "protected_branch_touched":
      return `Work only on your current branch (${detail}).`;
    case "out_of_scope":
      return `Change only the files the spec allows (${detail}).`;
    case "tests_failed":
      return `Make the tests pass (${detail}).`;
    case "spec_lint":
      return "";
    case "review":
      return `Address the reviewer's findings on the last attempt (${detail}).`;
  }
}
