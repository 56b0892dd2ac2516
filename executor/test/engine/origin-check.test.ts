// The origin check: what counts as touched beyond the run's branch, and what the verdict does.
import { describe, expect, it } from "vitest";
import { originMoves } from "../../src/engine/activities";
import { decideVerdict } from "../../src/engine/verdict";

const A = "a".repeat(40);
const B = "b".repeat(40);
const RUN = "refs/heads/mtor/k3f9x2ab-1";

describe("originMoves", () => {
  it("flags a moved, deleted or created ref, but not the run's branch or other runs' new branches", () => {
    const before = { "refs/heads/main": A, "refs/heads/dev": A, "refs/heads/mtor/old-1": A };
    const after = {
      "refs/heads/main": B,
      "refs/heads/mtor/old-1": B,
      "refs/tags/pwned": A,
      [RUN]: B,
      "refs/heads/mtor/other-2": B,
    };
    const details = originMoves(before, after, RUN).map((f) => f.detail);
    expect(details).toEqual([
      `the origin lost refs/heads/dev (was ${A.slice(0, 10)}) during the run`,
      `the origin's refs/heads/main moved from ${A.slice(0, 10)} to ${B.slice(0, 10)} during the run`,
      `the origin's refs/heads/mtor/old-1 moved from ${A.slice(0, 10)} to ${B.slice(0, 10)} during the run`,
      `the origin gained refs/tags/pwned at ${A.slice(0, 10)} during the run`,
    ]);
    expect(originMoves(before, { ...before, [RUN]: B }, RUN)).toEqual([]);
  });
});

describe("decideVerdict with the origin touched", () => {
  it("rejects without pushing, whatever the gates or the harness said", () => {
    const security = originMoves({ "refs/heads/main": A }, { "refs/heads/main": B }, RUN);
    const harness = { ok: true, logTail: "", durationMs: 1 };
    const origin = { security };
    const gates = {
      outcome: "passed" as const,
      flags: [],
      commits: 1,
      diffstat: { files: 1, insertions: 1, deletions: 0 },
      headSha: B,
    };
    expect(decideVerdict({ preflight: { ok: true }, harness, origin, gates })).toEqual({
      outcome: "rejected",
      flags: security,
      push: false,
    });
    const failedHarness = { ...harness, ok: false, failure: { kind: "harness" as const, message: "x" } };
    expect(decideVerdict({ preflight: { ok: true }, harness: failedHarness, origin })).toMatchObject({
      outcome: "rejected",
      push: false,
    });
    const failedPreflight = {
      ok: false as const,
      failure: { kind: "preflight" as const, message: "x" },
      security,
    };
    expect(decideVerdict({ preflight: failedPreflight })).toMatchObject({
      outcome: "rejected",
      flags: security,
    });
  });
});
