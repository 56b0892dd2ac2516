// The previous attempt's gate flags and reviewer notes as they reach the next attempt's prompt.
import { describe, expect, it } from "vitest";
import { promptFeedback } from "../../src/daemon/wiring";

describe("the previous attempt's feedback in the next prompt", () => {
  it("writes the flags' instructions from their facts, then keeps notes as written", () => {
    const out = promptFeedback({
      feedback_flags: [
        {
          gate: "tests_missing",
          action: "reject",
          detail: "named in the spec but not added: `test_sub`",
          facts: { kind: "tests_missing", tests: ["test_sub"] },
        },
      ],
      feedback: ["The reviewer declined the previous attempt: keep the public API as it is."],
    });
    expect(out).toEqual([
      "Add these tests named in the spec, with exactly these names: test_sub.",
      "The reviewer declined the previous attempt: keep the public API as it is.",
    ]);
  });

  it("passes a note that only looks like a flag on as written", () => {
    const lines = ["no_commit_on_success: a note someone wrote", "note: use the existing helper"];
    expect(promptFeedback({ feedback: lines, feedback_flags: [] })).toEqual(lines);
  });
});
