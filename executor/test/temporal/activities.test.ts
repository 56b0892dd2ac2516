// The Temporal activities through MockActivityEnvironment: the shared step functions on a real
// git repo and a real command harness, with heartbeats, lease renewal, cancellation and the
// failures Temporal must not retry.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClaimedRun, Phase } from "@mtor/schema";
import { ApplicationFailure, CancelledFailure } from "@temporalio/common";
import type { MockActivityEnvironment } from "@temporalio/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { HarnessOutcome, PreparedRun } from "../../src/engine/types";
import type { StopReason } from "../../src/engine/verdict";
import {
  createTemporalActivities,
  type HeartbeatDetails,
  type LeaseState,
} from "../../src/temporal/activities";
import { git, makeBox, makeOrigin, makeRun, mockEnv, runIn } from "./helpers";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(lease: (run: ClaimedRun, phase: Phase) => LeaseState = () => "held") {
  const o = makeOrigin();
  cleanups.push(o.cleanup);
  const box = makeBox(o.root, o.origin, "box-a");
  const renewals: { run: string; phase: Phase }[] = [];
  const stops: { workflowId: string; reason: StopReason }[] = [];
  const acts = createTemporalActivities({
    activities: box.activities,
    executorId: "box-a",
    taskQueuePrefix: "mtor",
    heartbeatMs: 50,
    renewLease: async (run, phase) => {
      renewals.push({ run: run.run_id, phase });
      return lease(run, phase);
    },
    stopRun: async (workflowId, reason) => {
      stops.push({ workflowId, reason });
    },
  });
  return { ...o, box, acts, renewals, stops };
}

/** Runs one activity in a fresh mock environment, collecting its heartbeats. */
async function inActivity<T>(fn: (env: MockActivityEnvironment) => Promise<T>) {
  const env = mockEnv();
  const beats: HeartbeatDetails[] = [];
  env.on("heartbeat", (d: HeartbeatDetails) => beats.push(d));
  const result = await fn(env).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { result, beats, env };
}

async function prepared(s: ReturnType<typeof setup>, run: ClaimedRun): Promise<PreparedRun> {
  const env = mockEnv();
  const placed = await runIn(env, s.acts.prepareWorktree, run);
  return placed.prepared;
}

function expectFailure(r: { ok: boolean; error?: unknown }): ApplicationFailure {
  expect(r.ok).toBe(false);
  expect(r.error).toBeInstanceOf(ApplicationFailure);
  return r.error as ApplicationFailure;
}

describe("temporal activities (MockActivityEnvironment)", () => {
  it("runs a whole passing run step by step: heartbeats, lease renewals, box queue, push, verdict", async () => {
    const s = setup();
    const run = makeRun("commits");

    const prep = await inActivity((env) => runIn(env, s.acts.prepareWorktree, run));
    expect(prep.result.ok).toBe(true);
    if (!prep.result.ok) return;
    const placed = prep.result.value;
    expect(placed.boxQueue).toBe("mtor-demo@box-a");
    expect(placed.prepared.branch).toBe("mtor/k3f9x2ab-1");
    expect(existsSync(placed.prepared.workspace)).toBe(true);
    expect(prep.beats[0]).toEqual({ phase: "preparing" });
    expect(s.renewals[0]).toEqual({ run: run.run_id, phase: "preparing" });

    const pre = await inActivity((env) => runIn(env, s.acts.preflight, run));
    // The probe lists the origin before it starts: the refs the origin check compares with.
    expect(pre.result).toEqual({ ok: true, value: { ok: true, originBefore: placed.prepared.originBefore } });
    expect(pre.beats.map((b) => b.phase)).toContain("preflight");

    const h = await inActivity((env) => runIn(env, s.acts.runHarness, run, placed.prepared));
    expect(h.result.ok).toBe(true);
    if (!h.result.ok) return;
    const harness: HarnessOutcome = h.result.value;
    expect(harness.logTail).toContain("done: added sub");
    expect(h.beats.map((b) => b.phase)).toContain("harness");

    const g = await inActivity((env) => runIn(env, s.acts.runGates, run, placed.prepared, harness));
    expect(g.result.ok).toBe(true);
    if (!g.result.ok) return;
    expect(g.result.value).toMatchObject({
      outcome: "passed",
      commits: 1,
      diffstat: { files: 2, insertions: 5, deletions: 0 },
    });

    const p = await inActivity((env) => runIn(env, s.acts.pushBranch, run, placed.prepared));
    expect(p.result.ok).toBe(true);
    if (!p.result.ok) return;
    expect(p.result.value.branch).toBe("mtor/k3f9x2ab-1");
    // The branch really is on the remote, at the head the gates saw, and main did not move.
    expect(git(s.origin, "rev-parse", "refs/heads/mtor/k3f9x2ab-1")).toBe(g.result.value.headSha);
    expect(git(s.origin, "rev-parse", "refs/heads/main")).toBe(placed.prepared.baseSha);

    const verdict = { token: run.lease.token, outcome: "passed" as const, flags: [], duration_ms: 10 };
    const rep = await inActivity((env) => runIn(env, s.acts.reportVerdict, run, verdict));
    expect(rep.result).toEqual({ ok: true, value: { accepted: true, status: "awaiting_review" } });
    expect(s.box.controlPlane.verdicts).toEqual([{ runId: run.run_id, body: verdict }]);
    // Reporting heartbeats Temporal but leaves the lease alone.
    expect(rep.beats.map((b) => b.phase)).toEqual(expect.arrayContaining(["reporting"]));
    expect(s.renewals.some((r) => r.phase === "reporting")).toBe(false);

    await runIn(mockEnv(), s.acts.cleanup, run, placed.prepared, false);
    // The workspace goes back to the pool for the next run; the run's own HOME goes.
    expect(existsSync(placed.prepared.home)).toBe(false);
    expect(s.stops).toEqual([]);
  });

  it("heartbeats while a silent step works, and renews the lease with each beat", async () => {
    const s = setup();
    const run = makeRun("slow", { timeout: "1m" });
    const p = await prepared(s, run);
    const env = mockEnv();
    const beats: HeartbeatDetails[] = [];
    env.on("heartbeat", (d: HeartbeatDetails) => {
      beats.push(d);
      // Enough beats seen: cancel, as Temporal would on a cancel request.
      if (beats.length === 6) env.cancel("CANCELLED");
    });
    const before = s.renewals.length;
    const err = await runIn(env, s.acts.runHarness, run, p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(beats.length).toBeGreaterThanOrEqual(6);
    expect(beats.every((b) => b.phase === "harness")).toBe(true);
    expect(s.renewals.length - before).toBeGreaterThanOrEqual(3);
  });

  it("cancellation kills the harness's whole process group and fails the activity as cancelled", async () => {
    const s = setup();
    const run = makeRun("slow", { timeout: "1m" });
    const p = await prepared(s, run);
    const env = mockEnv();
    const pidFile = join(p.home, "harness.pid");
    const started = Date.now();
    const running = runIn(env, s.acts.runHarness, run, p).catch((e: unknown) => e);
    await waitFor(() => existsSync(pidFile));
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(alive(pid)).toBe(true);
    env.cancel("CANCELLED");
    const err = await running;
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(alive(pid)).toBe(false);
    // The script would run 30 s; cancelling ends it at once.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(s.stops).toEqual([]);
  });

  it("a lost lease aborts the harness, stops the workflow and fails non-retryably as lost_lease", async () => {
    let lost = false;
    const s = setup(() => (lost ? "lost" : "held"));
    const run = makeRun("slow", { timeout: "1m" });
    const p = await prepared(s, run);
    const pidFile = join(p.home, "harness.pid");
    const { result, beats } = await inActivity(async (env) => {
      const running = runIn(env, s.acts.runHarness, run, p);
      await waitFor(() => existsSync(pidFile));
      lost = true;
      return running;
    });
    const f = expectFailure(result);
    expect(f.type).toBe("lost_lease");
    expect(f.nonRetryable).toBe(true);
    expect(alive(Number(readFileSync(pidFile, "utf8")))).toBe(false);
    expect(s.stops).toEqual([{ workflowId: `mtor-${run.run_id}`, reason: "lost_lease" }]);
    expect(beats.length).toBeGreaterThan(0);
  });

  it("an operator kill (heartbeat answers cancel) stops the run as canceled", async () => {
    let killed = false;
    const s = setup(() => (killed ? "cancel" : "held"));
    const run = makeRun("slow", { timeout: "1m" });
    const p = await prepared(s, run);
    const pidFile = join(p.home, "harness.pid");
    const { result } = await inActivity(async (env) => {
      const running = runIn(env, s.acts.runHarness, run, p);
      await waitFor(() => existsSync(pidFile));
      killed = true;
      return running;
    });
    const f = expectFailure(result);
    expect(f.type).toBe("canceled");
    expect(f.nonRetryable).toBe(true);
    expect(s.stops).toEqual([{ workflowId: `mtor-${run.run_id}`, reason: "canceled" }]);
  });

  it("checks the lease right before pushing: a lost lease pushes nothing", async () => {
    let lost = false;
    const s = setup(() => (lost ? "lost" : "held"));
    const run = makeRun("commits");
    const p = await prepared(s, run);
    const h = await runIn(mockEnv(), s.acts.runHarness, run, p);
    expect(h.ok).toBe(true);
    lost = true;
    const { result } = await inActivity((env) => runIn(env, s.acts.pushBranch, run, p));
    const f = expectFailure(result);
    expect(f.type).toBe("lost_lease");
    expect(s.renewals.at(-1)).toEqual({ run: run.run_id, phase: "pushing" });
    expect(git(s.origin, "for-each-ref", "--format=%(refname)", "refs/heads/mtor/")).toBe("");
  });

  it("a failed preflight completes with its outcome as a value (the workflow decides)", async () => {
    const s = setup();
    const run = makeRun("bad-preflight");
    const { result } = await inActivity((env) => runIn(env, s.acts.preflight, run));
    expect(result).toEqual({
      ok: true,
      value: {
        ok: false,
        failure: { kind: "preflight", message: expect.stringContaining("I cannot help with that") },
      },
    });
  });

  it("a provider auth error completes with the harness outcome as a value", async () => {
    const s = setup();
    const run = makeRun("auth-error");
    const p = await prepared(s, run);
    const { result } = await inActivity((env) => runIn(env, s.acts.runHarness, run, p));
    if (!result.ok) throw new Error(`the harness activity failed: ${String(result.error)}`);
    const outcome: HarnessOutcome = result.value;
    expect(outcome.ok).toBe(false);
    expect(outcome.failure?.kind).toBe("auth");
    expect(outcome.logTail).toContain("invalid x-api-key");
  });

  it("a gate rejection completes with the gate outcome as a value", async () => {
    const s = setup();
    const run = makeRun("no-commit");
    const p = await prepared(s, run);
    const h = await runIn(mockEnv(), s.acts.runHarness, run, p);
    expect(h.ok).toBe(true);
    const { result } = await inActivity((env) => runIn(env, s.acts.runGates, run, p, h));
    if (!result.ok) throw new Error(`the gates activity failed: ${String(result.error)}`);
    expect(result.value).toMatchObject({
      outcome: "rejected",
      commits: 0,
      flags: [{ gate: "no_commit_on_success", action: "reject" }],
    });
  });

  it("a git failure is a retryable `git` failure (transient: Temporal retries it per policy)", async () => {
    const s = setup();
    s.box.deps.config.repos.demo.url = join(s.root, "does-not-exist.git");
    const run = makeRun("commits");
    const { result } = await inActivity((env) => runIn(env, s.acts.prepareWorktree, run));
    const f = expectFailure(result);
    expect(f.type).toBe("git");
    expect(f.nonRetryable).toBe(false);
  });

  it("an activity cancelled before it starts does not touch the repo", async () => {
    const s = setup();
    const run = makeRun("commits");
    const env = mockEnv();
    env.cancel("CANCELLED");
    const err = await runIn(env, s.acts.prepareWorktree, run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(existsSync(join(s.box.workdir, "runs"))).toBe(false);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
