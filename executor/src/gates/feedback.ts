// Turns the flags of a rejected attempt into concrete instructions for the next attempt's
// prompt. It reads the details `runGates` writes; a detail it does not recognise (an older
// executor, a hand-written flag) still yields an instruction that quotes it.
import type { GateFlag } from "@mtor/schema";

export function feedbackFor(flags: GateFlag[]): string[] {
  const out: string[] = [];
  for (const f of flags) {
    if (f.action === "off") continue;
    const line = instruction(f);
    if (line && !out.includes(line)) out.push(line);
  }
  return out;
}

function instruction({ gate, detail }: GateFlag): string {
  let m: RegExpExecArray | null;
  switch (gate) {
    case "no_commit_on_success":
      return "Commit your work: the last attempt ended without a commit.";
    case "empty_diff":
      return "Make a real change and commit it: the last attempt's commits added up to no change at all.";
    case "destruction":
      m =
        /^deleted (function|method|class) `([^`]+)` in (\S+)(?: \([^)]*\))?(?:, still used in ([^\s;]+))?/.exec(
          detail,
        );
      if (m?.[4]) return `Do not delete \`${m[2]}\` in ${m[3]}; it is still used in ${m[4]}. Extend it.`;
      if (m) return `Do not delete \`${m[2]}\` in ${m[3]}; extend it.`;
      m =
        /^(?:function|method) `([^`]+)` in (\S+)(?: \(now in (\S+)\))? shrank from (\d+) lines? to (\d+)/.exec(
          detail,
        );
      if (m) {
        return `Do not replace \`${m[1]}\` in ${m[3] ?? m[2]} with a shorter version (it went from ${m[4]} lines to ${m[5]}); keep its existing logic and extend it.`;
      }
      m =
        /^the spec (?:asks|says) to (\w+) `([^`]+)` in (\S+)(?: \(now in (\S+)\))?; it shrank from (\d+) lines? to (\d+)/.exec(
          detail,
        );
      if (m) {
        return `Do not replace \`${m[2]}\` in ${m[4] ?? m[3]} with a shorter version (it went from ${m[5]} lines to ${m[6]}): the spec asks you to ${m[1]} it, so keep its existing logic and add to it.`;
      }
      m = /^deleted test `([^`]+)` in (\S+)/.exec(detail);
      if (m) return `Do not delete the test \`${m[1]}\` in ${m[2]}; make it pass by fixing the code.`;
      m = /^deleted \d+ tests in (\S+): (.+)$/.exec(detail);
      if (m)
        return `Do not delete existing tests in ${m[1]} (${names(m[2]).join(", ")}); make them pass by fixing the code.`;
      m = /^(?:function|method|class) `([^`]+)` in (\S+) is no longer (?:exported|public)/.exec(detail);
      if (m) return `Keep \`${m[1]}\` in ${m[2]} public: code outside the repository may call it.`;
      m = /^deleted file (\S+)/.exec(detail);
      if (m)
        return `Do not delete ${m[1]}; the spec does not ask for it. Keep the file and change only what the spec asks.`;
      m = /^the change deletes (\d+) lines? and adds (\d+)/.exec(detail);
      if (m) {
        return `Do not remove existing code: the last attempt deleted ${m[1]} lines and added ${m[2]}. Add to the code instead of rewriting it.`;
      }
      return `Do not delete or gut existing code (${detail}).`;
    case "target_file_missing":
      m = /^target (\S+) does not exist/.exec(detail);
      if (m)
        return `Create or keep ${m[1]} and put your change there: the spec targets it and it was missing.`;
      m = /^target (\S+) was not changed/.exec(detail);
      if (m) return `Change ${m[1]}: the spec targets it and the last attempt left it untouched.`;
      return `Change the spec's target files (${detail}).`;
    case "tests_missing":
      m = /^named in the spec but not added: (.+)$/.exec(detail);
      if (m) return `Add these tests named in the spec, with exactly these names: ${names(m[1]).join(", ")}.`;
      return `Add the tests the spec names (${detail}).`;
    case "tests_extra":
      m = /added beyond the spec's: (.+); the spec names (.+)$/.exec(detail);
      if (m) {
        const extra = names(m[1]);
        return `Add exactly these tests and no others: ${names(m[2]).join(", ")}. Remove the extra ones (${extra.join(", ")}).`;
      }
      return `Add exactly the tests the spec names and no others (${detail}).`;
    case "commit_flood":
      m = /^(\d+) commits, over the cap of (\d+)/.exec(detail);
      if (m)
        return `Make at most ${m[2]} commits (the last attempt made ${m[1]}); stop once the spec's tests pass.`;
      return `Make fewer commits (${detail}).`;
    case "duplicate":
      m = /identical to spec (\S+)'s branch/.exec(detail);
      if (m) return `Do not repeat spec ${m[1]}'s change; do what this spec asks that is not done yet.`;
      return `Do not redo work that is already on the base branch (${detail}); build on it.`;
    case "protected_branch_touched":
      m = /^(?:created|moved|deleted) ref (\S+)/.exec(detail);
      if (m) return `Work only on your current branch: do not commit to, create, move or delete ${m[1]}.`;
      m = /default branch ([^\s,]+)/.exec(detail);
      if (m) return `Commit on your own branch, never on ${m[1]}.`;
      return `Work only on your current branch (${detail}).`;
    case "out_of_scope":
      m = /outside paths \[([^\]]*)\]: (.+)$/.exec(detail);
      if (m) return `Change only files under ${m[1]}; leave ${m[2]} untouched.`;
      return `Change only the files the spec allows (${detail}).`;
    case "tests_failed":
      m = /^`([^`]+)` failed \(([^)]*)\):\n?([\s\S]*)$/.exec(detail);
      if (m) return `Make \`${m[1]}\` pass: it failed (${m[2]}) with:\n${m[3]}`;
      return `Make the tests pass (${detail}).`;
    case "spec_lint":
      return "";
    case "review":
      m = /^graded ([A-F][+-]?), below ([A-F][+-]?)(?:: ([^\n]*))?\n?([\s\S]*)$/.exec(detail);
      if (m) {
        const findings = m[4].trim();
        return `A reviewer graded the last attempt ${m[1]} (the minimum is ${m[2]})${m[3] ? `: ${m[3]}` : ""}. Address its findings:${findings ? `\n${findings}` : " make the change do what the spec asks and nothing more."}`;
      }
      return `Address the reviewer's findings on the last attempt (${detail}).`;
  }
  return detail;
}

/** Names from a list written as "`a`, `b` (file), `c` and 3 more". */
function names(list: string): string[] {
  const out = [...list.matchAll(/`([^`]+)`/g)].map((x) => x[1]);
  return out.length > 0 ? out : [list];
}
