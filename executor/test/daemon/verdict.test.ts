// decideVerdict: whether a run passes, fails or pushes, from what its steps returned and why it stopped.
import { describe, expect, it } from "vitest";
import type { GateOutcome, HarnessOutcome } from "../../src/engine/types";
import { decideVerdict } from "../../src/engine/verdict";

const okHarness: HarnessOutcome = { ok: true, logTail: "", durationMs: 1000 };
const gates = (over: Partial<GateOutcome> = {}): GateOutcome => ({
  outcome: "passed",
  flags: [],
  commits: 1,
  diffstat: { files: 1, insertions: 5, deletions: 0 },
  headSha: "a".repeat(40),
  ...over,
});

describe("decideVerdict", () => {
  it("passes and pushes a gated branch with commits", () => {
    expect(decideVerdict({ preflight: { ok: true }, harness: okHarness, gates: gates() })).toEqual({
      outcome: "passed",
      flags: [],
      push: true,
    });
  });

  it("pushes a rejected branch for review, but not one without commits", () => {
    const flag = { gate: "tests_extra" as const, action: "reject" as const, detail: "2 extra tests" };
    expect(
      decideVerdict({ harness: okHarness, gates: gates({ outcome: "rejected", flags: [flag] }) }),
    ).toMatchObject({
      outcome: "rejected",
      flags: [flag],
      push: true,
    });
    expect(
      decideVerdict({ harness: okHarness, gates: gates({ outcome: "rejected", commits: 0 }) }).push,
    ).toBe(false);
  });

  it("fails fast on a preflight failure, never pushing", () => {
    const failure = { kind: "preflight" as const, message: "provider answered 529" };
    expect(decideVerdict({ preflight: { ok: false, failure } })).toEqual({
      outcome: "failed",
      flags: [],
      failure,
      push: false,
    });
  });

  it("carries the harness's failure kind (rate_limited with retry_after_s)", () => {
    const failure = { kind: "rate_limited" as const, message: "429", retry_after_s: 120 };
    expect(
      decideVerdict({ preflight: { ok: true }, harness: { ...okHarness, ok: false, failure } }),
    ).toMatchObject({
      outcome: "failed",
      failure,
      push: false,
    });
  });

  it("a stop wins over whatever the steps returned: timeout, cancel, lost lease, drain", () => {
    const facts = { preflight: { ok: true } as const, harness: okHarness, gates: gates() };
    expect(decideVerdict({ ...facts, stopped: "timeout", timeoutS: 20 })).toMatchObject({
      outcome: "failed",
      failure: { kind: "timeout", message: "spec timeout of 20s reached; harness killed" },
      push: false,
    });
    expect(decideVerdict({ ...facts, stopped: "canceled" }).failure?.kind).toBe("canceled");
    expect(decideVerdict({ ...facts, stopped: "drain" }).failure?.kind).toBe("canceled");
    expect(decideVerdict({ ...facts, stopped: "lost_lease" })).toMatchObject({
      failure: { kind: "lost_lease" },
      push: false,
    });
  });

  it("reports a step's error (git) and a run that never reached its gates", () => {
    expect(decideVerdict({ error: { kind: "git", message: "base missing" } })).toMatchObject({
      outcome: "failed",
      failure: { kind: "git" },
    });
    expect(decideVerdict({ preflight: { ok: true }, harness: okHarness }).failure?.kind).toBe("internal");
  });
});
