// specRun itself, in Temporal's sandbox, driven by Temporal's core through replay (no server
// can run here): the history a server would write is built step by step while the activities
// the workflow asks for run for real on a git repo with a command harness. Shows the workflow's
// step order, queues, timeouts and retries, the verdict it reports, and how it stops on a lost
// lease or the spec's timeout.
import type { VerdictRequest } from "@mtor/schema";
import { ActivityCancellationType } from "@temporalio/workflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRun } from "../../src/engine/local";
import { createTemporalActivities, type TemporalActivities } from "../../src/temporal/activities";
import { stopFailure } from "../../src/temporal/failures";
import { DEFAULT_TIMING } from "../../src/temporal/shared";
import { asWorker, makeBox, makeOrigin, makeRun } from "./helpers";
import { type ActivityEnd, type Recorded, ReplayDriver, replayBundle } from "./replay-driver";

type Asked = Extract<Recorded, { kind: "activity" }>;

const origin = makeOrigin();
let code = "";
beforeAll(async () => {
  code = await replayBundle();
}, 120_000);
afterAll(() => origin.cleanup());

function worker(name: string): TemporalActivities {
  const box = makeBox(origin.root, origin.origin, name);
  return asWorker(
    createTemporalActivities({
      activities: box.activities,
      executorId: name,
      taskQueuePrefix: "mtor",
      renewLease: async () => "held",
      capacity: { demo: 2 },
    }),
    name,
  );
}

function executor(acts: TemporalActivities) {
  return async (a: Asked): Promise<ActivityEnd> => {
    const fn = (acts as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[a.type];
    try {
      return { result: await fn(...a.args) };
    } catch (error) {
      return { error };
    }
  };
}

const reported = (asked: Asked[]): VerdictRequest => {
  const report = asked.find((a) => a.type === "reportVerdict");
  expect(report, "the workflow reported a verdict").toBeTruthy();
  return report?.args[1] as VerdictRequest;
};

const withoutDuration = ({ duration_ms: _d, ...rest }: VerdictRequest) => rest;

describe("specRun replayed by Temporal's core", () => {
  it("runs the steps in order on the right queues with the spec's timeout, and reports the local engine's verdict", async () => {
    const run = makeRun("commits", { runId: "wf-pass" });
    const driver = new ReplayDriver(code, { run, timing: DEFAULT_TIMING }, "mtor-demo");
    const { asked, end } = await driver.runToEnd(executor(worker("replay-pass")));

    expect(asked.map((a) => [a.type, a.options.taskQueue ?? "(workflow's queue)"])).toEqual([
      ["prepareWorktree", "(workflow's queue)"],
      ["preflight", "mtor-demo@replay-pass"],
      ["runHarness", "mtor-demo@replay-pass"],
      ["runGates", "mtor-demo@replay-pass"],
      ["pushBranch", "mtor-demo@replay-pass"],
      ["reportVerdict", "(workflow's queue)"],
      ["cleanup", "mtor-demo@replay-pass"],
    ]);
    const harness = asked.find((a) => a.type === "runHarness")?.options;
    expect(harness).toMatchObject({
      startToCloseTimeout: run.spec.timeout_s * 1000,
      heartbeatTimeout: DEFAULT_TIMING.heartbeatTimeoutMs,
      retry: { maximumAttempts: 1 },
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      scheduleToStartTimeout: DEFAULT_TIMING.boxStartTimeoutMs,
    });
    expect(asked.find((a) => a.type === "pushBranch")?.options).toMatchObject({
      retry: { maximumAttempts: DEFAULT_TIMING.maxAttempts, backoffCoefficient: 2 },
    });
    // The attempt's timer: the spec's timeout over the whole run.
    expect(driver.recorded.find((r) => r.kind === "timer")).toEqual({
      kind: "timer",
      seq: 1,
      ms: run.spec.timeout_s * 1000,
    });

    const verdict = reported(asked);
    expect(end.error).toBeUndefined();
    expect((end.result as { verdict: VerdictRequest }).verdict).toEqual(verdict);
    expect(verdict).toMatchObject({ outcome: "passed", branch: "mtor/k3f9x2ab-1", commits: 1 });

    const local = await startRun(
      { ...run, run_id: "wf-pass-local" },
      {
        activities: makeBox(origin.root, origin.origin, "replay-pass-local").activities,
        client: {
          heartbeat: async () => ({ ok: true, status: 200, data: { cancel: false, expires_at: "" } }),
        },
        load: () => ({ cpu: 0, mem_free: 1 }),
        heartbeatMs: 1000,
      },
    ).done;
    expect(withoutDuration(verdict)).toEqual(withoutDuration(JSON.parse(JSON.stringify(local.verdict))));
  }, 120_000);

  it("reads a gate rejection from its non-retryable failure: no push, a rejected verdict", async () => {
    const run = makeRun("no-commit", { runId: "wf-reject" });
    const driver = new ReplayDriver(code, { run, timing: DEFAULT_TIMING }, "mtor-demo");
    const { asked, end } = await driver.runToEnd(executor(worker("replay-reject")));
    expect(asked.map((a) => a.type)).toEqual([
      "prepareWorktree",
      "preflight",
      "runHarness",
      "runGates",
      "reportVerdict",
      "cleanup",
    ]);
    const verdict = reported(asked);
    expect(verdict.outcome).toBe("rejected");
    expect(verdict.flags.map((f) => f.gate)).toContain("no_commit_on_success");
    expect(end.result).toMatchObject({ verdict: { outcome: "rejected" } });
  }, 120_000);

  it("a lost lease (stop signal, then cancel) ends it cancelled: harness cancelled, nothing pushed, lost_lease reported", async () => {
    const run = makeRun("commits", { runId: "wf-lost" });
    const driver = new ReplayDriver(code, { run, timing: DEFAULT_TIMING }, "mtor-demo");
    const exec = executor(worker("replay-lost"));
    await driver.replay();
    let harnessSeq = 0;
    for (;;) {
      const [a] = driver.commit().filter((r): r is Asked => r.kind === "activity");
      if (a.type === "runHarness") {
        harnessSeq = a.seq;
        break;
      }
      driver.end(a.seq, await exec(a));
      await driver.replay();
    }
    // While the harness runs, the control plane says the lease is gone: the stopper signals the
    // reason and cancels the workflow.
    driver.push({ op: "signaled", name: "stop", args: ["lost_lease"] }, { op: "cancelRequested" });
    await driver.replay();
    expect(driver.fresh()).toEqual([]);
    // The workflow asked to cancel the harness and its timer; the harness stops as lost_lease.
    driver.commit([
      { op: "activityCancelRequested", seq: harnessSeq },
      { op: "timerCanceled", seq: 1 },
    ]);
    driver.end(harnessSeq, { error: stopFailure("lost_lease") });
    const rest: Asked[] = [];
    await driver.replay();
    while (!driver.done()) {
      const [a] = driver.commit().filter((r): r is Asked => r.kind === "activity");
      rest.push(a);
      driver.end(a.seq, await exec(a));
      await driver.replay();
    }
    expect(rest.map((a) => a.type)).toEqual(["reportVerdict", "cleanup"]);
    expect(reported(rest)).toMatchObject({ outcome: "failed", failure: { kind: "lost_lease" } });
    expect(reported(rest).branch).toBeUndefined();
    expect(driver.done()?.end.error?.name).toBe("CancelledFailure");
  }, 120_000);

  it("the spec's timeout stops the run: the harness is cancelled and the verdict is a timeout", async () => {
    const run = makeRun("commits", { runId: "wf-timeout", timeout: "5m" });
    const driver = new ReplayDriver(code, { run, timing: DEFAULT_TIMING }, "mtor-demo");
    const exec = executor(worker("replay-timeout"));
    await driver.replay();
    let harnessSeq = 0;
    for (;;) {
      const [a] = driver.commit().filter((r): r is Asked => r.kind === "activity");
      if (a.type === "runHarness") {
        harnessSeq = a.seq;
        break;
      }
      driver.end(a.seq, await exec(a));
      await driver.replay();
    }
    driver.push({ op: "timerFired", seq: 1 });
    await driver.replay();
    driver.commit([
      { op: "activityCancelRequested", seq: harnessSeq },
      { op: "activityCanceled", seq: harnessSeq },
    ]);
    const rest: Asked[] = [];
    await driver.replay();
    while (!driver.done()) {
      const [a] = driver.commit().filter((r): r is Asked => r.kind === "activity");
      rest.push(a);
      driver.end(a.seq, await exec(a));
      await driver.replay();
    }
    expect(rest.map((a) => a.type)).toEqual(["reportVerdict", "cleanup"]);
    expect(reported(rest)).toMatchObject({ outcome: "failed", failure: { kind: "timeout" } });
    expect(driver.done()?.end.result).toMatchObject({ stopped: "timeout" });
  }, 120_000);

  it("a full box refuses the prepare; the workflow waits and offers the run again", async () => {
    const run = makeRun("commits", { runId: "wf-busy" });
    const driver = new ReplayDriver(code, { run, timing: DEFAULT_TIMING }, "mtor-demo");
    await driver.replay();
    const [prepare] = driver.commit().filter((r): r is Asked => r.kind === "activity");
    expect(prepare.type).toBe("prepareWorktree");
    const full = createTemporalActivities({
      activities: makeBox(origin.root, origin.origin, "replay-full").activities,
      executorId: "replay-full",
      taskQueuePrefix: "mtor",
      renewLease: async () => "held",
      capacity: { demo: 0 },
    });
    driver.end(prepare.seq, await executor(asWorker(full, "replay-full"))(prepare));
    await driver.replay();
    expect(driver.fresh()).toEqual([{ kind: "timer", seq: 2, ms: 2000 }]);
    driver.commit([{ op: "timerFired", seq: 2 }]);
    await driver.replay();
    expect(driver.fresh()).toEqual([
      expect.objectContaining({ kind: "activity", type: "prepareWorktree", seq: 2 }),
    ]);
  }, 120_000);
});
