// The previous attempt's gate flags and reviewer notes as they reach the next attempt's prompt.
import { describe, expect, it } from "vitest";
import { promptFeedback } from "../../src/daemon/wiring";

describe("the previous attempt's feedback in the next prompt", () => {
  it("turns the control plane's `gate: detail` lines into the gates' instructions and keeps notes as written", () => {
    const out = promptFeedback([
      "no_commit_on_success: the harness succeeded but the branch has no new commit",
      "Please keep the public API as it is.",
    ]);
    expect(out).toEqual([
      "Commit your work: the last attempt ended without a commit.",
      "Please keep the public API as it is.",
    ]);
  });

  it("leaves a line that only looks like a flag alone", () => {
    expect(promptFeedback(["note: use the existing helper"])).toEqual(["note: use the existing helper"]);
  });
});
