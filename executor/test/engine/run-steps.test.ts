// runSteps' order: the harness starts once the workspace is ready but acts only once the
// preflight passed (and is dropped when it did not); after it the origin check and the gates run
// side by side, and the push waits for both; a moved origin or a failed check pushes nothing,
// whatever the gates said.
import type { GateFlag } from "@mtor/schema";
import { describe, expect, it } from "vitest";
import { runSteps, type StepCalls } from "../../src/engine/run-steps";
import type { GateOutcome, OriginCheck, PreflightOutcome, PreparedRun } from "../../src/engine/types";
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

describe("runSteps before the harness", () => {
  /** Steps whose preflight answers when the test says; the harness waits to be cleared, as its tap would. */
  function probing() {
    const events: string[] = [];
    const phases: string[] = [];
    const probe = deferred<PreflightOutcome>();
    const s = scripted();
    s.check.resolve({ baseTip: BASE });
    s.gates.resolve(passed);
    const steps: StepCalls = {
      ...s.steps,
      prepareWorktree: async () => {
        events.push("workspace ready");
        return prepared;
      },
      preflight: () => probe.promise,
      runHarness: async (_r, _p, cleared) => {
        events.push("harness started");
        try {
          await cleared;
          events.push("harness cleared");
          return { ok: true, logTail: "", durationMs: 1 };
        } catch {
          events.push("harness stopped");
          return { ok: false, failure: { kind: "canceled", message: "stopped" }, logTail: "", durationMs: 1 };
        }
      },
      pushBranch: async (_r, p) => {
        events.push("push");
        return { branch: p.branch, headSha: HEAD };
      },
      cleanup: async (_r, _p, keep) => {
        events.push(`cleanup keep=${keep}`);
      },
    };
    const options = { ...opts, onPhase: (p: string) => phases.push(p) };
    return { steps, events, phases, probe, options };
  }

  it("starts the harness once the workspace is ready, before the probe answers, and says harness only once it passed", async () => {
    const s = probing();
    const done = runSteps(s.steps, makeRun("commits"), s.options);
    await settle();
    expect(s.events).toEqual(["workspace ready", "harness started"]);
    expect(s.phases).toEqual(["preparing"]);
    s.probe.resolve({ ok: true, originBefore: prepared.originBefore });
    const result = await done;
    expect(s.events).toEqual([
      "workspace ready",
      "harness started",
      "harness cleared",
      "push",
      "cleanup keep=false",
    ]);
    expect(s.phases.slice(0, 3)).toEqual(["preparing", "harness", "gates"]);
    expect(result.verdict.outcome).toBe("passed");
  });

  it("stops the started harness when the probe fails, drops what it returned, pushes nothing and keeps no workspace", async () => {
    const s = probing();
    const done = runSteps(s.steps, makeRun("commits"), s.options);
    await settle();
    s.probe.resolve({ ok: false, failure: { kind: "preflight", message: "preflight failed: 529" } });
    const result = await done;
    expect(s.events).toEqual(["workspace ready", "harness started", "harness stopped", "cleanup keep=false"]);
    expect(s.phases).not.toContain("harness");
    expect(result.verdict.outcome).toBe("failed");
    expect(result.verdict.failure).toEqual({ kind: "preflight", message: "preflight failed: 529" });
    expect(result.verdict.log_tail).toBeUndefined();
  });

  it("waits for a started harness to end before cleaning up when the probe throws", async () => {
    const s = probing();
    const done = runSteps(s.steps, makeRun("commits"), s.options);
    await settle();
    s.probe.reject(new Error("internal: the sandbox went away"));
    const result = await done;
    expect(s.events).toEqual(["workspace ready", "harness started", "harness stopped", "cleanup keep=false"]);
    expect(result.verdict.outcome).toBe("failed");
  });

  it("does not start the harness when the probe failed before the workspace was ready", async () => {
    const s = probing();
    const ready = deferred<PreparedRun>();
    s.steps.prepareWorktree = () => ready.promise;
    const done = runSteps(s.steps, makeRun("commits"), s.options);
    s.probe.resolve({ ok: false, failure: { kind: "preflight", message: "no" } });
    await settle();
    ready.resolve(prepared);
    const result = await done;
    expect(s.events).toEqual(["cleanup keep=false"]);
    expect(result.verdict.outcome).toBe("failed");
  });
});
