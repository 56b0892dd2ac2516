// runSteps' order after the harness: the origin check and the gates run side by side, and the
// push waits for both; a moved origin or a failed check pushes nothing, whatever the gates said.
import type { GateFlag } from "@mtor/schema";
import { describe, expect, it } from "vitest";
import { runSteps, type StepCalls } from "../../src/engine/run-steps";
import type { GateOutcome, OriginCheck, PreparedRun } from "../../src/engine/types";
import { makeRun } from "../temporal/helpers";

const BASE = "a".repeat(40);
const HEAD = "b".repeat(40);
const MOVED: GateFlag = {
  gate: "protected_branch_touched",
  action: "reject",
  detail: "the origin's refs/heads/main moved",
  facts: { kind: "ref_changed", ref: "refs/heads/main", change: "moved" },
};

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const prepared: PreparedRun = {
  runId: "r1",
  specId: "k3f9x2ab",
  attempt: 1,
  branch: "mtor/k3f9x2ab-1",
  workspace: "/nowhere/ws",
  home: "/nowhere/home",
  base: "main",
  baseSha: BASE,
  runRef: "refs/mtor-runs/k3f9x2ab-1",
  originBefore: { "refs/heads/main": BASE },
};

const passed: GateOutcome = {
  outcome: "passed",
  flags: [],
  commits: 1,
  diffstat: { files: 1, insertions: 3, deletions: 0 },
  headSha: HEAD,
};

/** Steps whose origin check and gates finish when the test says; everything else at once. */
function scripted() {
  const events: string[] = [];
  const check = deferred<OriginCheck>();
  const gates = deferred<GateOutcome>();
  let baseTipSeen: string | undefined;
  const steps: StepCalls = {
    prepareWorktree: async () => prepared,
    preflight: async () => ({ ok: true }),
    runHarness: async () => {
      events.push("harness");
      return { ok: true, logTail: "", durationMs: 1 };
    },
    checkOrigin: () => {
      events.push("check started");
      return check.promise.finally(() => events.push("check done"));
    },
    runGates: (_r, _p, _h, origin) => {
      events.push("gates started");
      // The gates read base's tip from the check when they need it.
      origin.then(
        (o) => {
          baseTipSeen = o.baseTip;
        },
        () => undefined,
      );
      return gates.promise.finally(() => events.push("gates done"));
    },
    pushBranch: async (_r, p) => {
      events.push("push");
      return { branch: p.branch, headSha: HEAD };
    },
    reportVerdict: async () => {
      events.push("verdict");
      return { accepted: true, status: "awaiting_review" };
    },
    cleanup: async () => undefined,
  };
  return { steps, events, check, gates, baseTip: () => baseTipSeen };
}

const opts = {
  now: Date.now,
  classify: (err: unknown) => ({ error: { kind: "git" as const, message: (err as Error).message } }),
};

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe("runSteps after the harness", () => {
  it("starts the gates beside the origin check, and pushes only once both are in", async () => {
    const s = scripted();
    const done = runSteps(s.steps, makeRun("commits"), opts);
    await settle();
    // The gates started while the listing is still out.
    expect(s.events).toEqual(["harness", "check started", "gates started"]);
    s.gates.resolve(passed);
    await settle();
    // The gates are done, the check is not: nothing is pushed yet.
    expect(s.events).toEqual(["harness", "check started", "gates started", "gates done"]);
    s.check.resolve({ baseTip: BASE });
    const result = await done;
    expect(s.events.slice(3)).toEqual(["gates done", "check done", "push", "verdict"]);
    expect(s.baseTip()).toBe(BASE);
    expect(result.verdict).toMatchObject({ outcome: "passed", head_sha: HEAD, branch: prepared.branch });
  });

  it("pushes nothing when the check saw the origin move, though the gates passed", async () => {
    const s = scripted();
    const done = runSteps(s.steps, makeRun("commits"), opts);
    s.gates.resolve(passed);
    await settle();
    s.check.resolve({ baseTip: BASE, security: [MOVED] });
    const result = await done;
    expect(s.events).not.toContain("push");
    expect(result.verdict.outcome).toBe("rejected");
    expect(result.verdict.flags).toEqual([MOVED]);
    expect(result.verdict.branch).toBeUndefined();
  });

  it("still rejects for the moved origin when the gates failed meanwhile", async () => {
    const s = scripted();
    const done = runSteps(s.steps, makeRun("commits"), opts);
    s.check.resolve({ security: [MOVED] });
    s.gates.reject(new Error("git diff failed"));
    const result = await done;
    expect(s.events).not.toContain("push");
    expect(result.verdict.outcome).toBe("rejected");
    expect(result.verdict.flags).toEqual([MOVED]);
  });

  it("fails, unpushed, when the origin cannot be listed, though the gates passed", async () => {
    const s = scripted();
    const done = runSteps(s.steps, makeRun("commits"), opts);
    s.gates.resolve(passed);
    await settle();
    s.check.reject(new Error("git ls-remote failed: connection refused"));
    const result = await done;
    expect(s.events).not.toContain("push");
    expect(result.verdict.outcome).toBe("failed");
    expect(result.verdict.failure?.message).toMatch(/ls-remote failed/);
  });

  it("checks the origin after a failed harness too, and runs no gates", async () => {
    const s = scripted();
    s.steps.runHarness = async () => ({
      ok: false,
      failure: { kind: "harness", message: "exit 1" },
      logTail: "",
      durationMs: 1,
    });
    const done = runSteps(s.steps, makeRun("commits"), opts);
    s.check.resolve({ security: [MOVED] });
    const result = await done;
    expect(s.events).toEqual(["check started", "check done", "verdict"]);
    expect(result.verdict.outcome).toBe("rejected");
    expect(result.verdict.flags).toEqual([MOVED]);
  });
});
