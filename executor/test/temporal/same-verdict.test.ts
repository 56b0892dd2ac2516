// The local engine and the Temporal engine give the same verdict for the same scripted run.
// The Temporal side is the workflow's own step code (activitySteps + runSteps, exactly what
// specRun runs in its sandbox) over the Temporal activities, each run in MockActivityEnvironment
// with its arguments, results and failures passed through Temporal's converters as on the wire.
import type { ClaimedRun, VerdictRequest } from "@mtor/schema";
import { afterAll, describe, expect, it } from "vitest";
import { type RunResult, startRun } from "../../src/engine/local";
import { runSteps } from "../../src/engine/run-steps";
import { createTemporalActivities } from "../../src/temporal/activities";
import { activitySteps } from "../../src/temporal/activity-steps";
import { asWorker, makeBox, makeOrigin, makeRun } from "./helpers";

const origin = makeOrigin();
afterAll(() => origin.cleanup());

async function local(run: ClaimedRun, box: string): Promise<RunResult> {
  const b = makeBox(origin.root, origin.origin, box);
  return startRun(run, {
    activities: b.activities,
    client: {
      heartbeat: async () => ({
        ok: true,
        status: 200,
        data: { cancel: false, expires_at: new Date(Date.now() + 90_000).toISOString() },
      }),
    },
    load: () => ({ cpu: 0.1, mem_free: 0.8 }),
    heartbeatMs: 1000,
  }).done;
}

async function temporal(run: ClaimedRun, box: string) {
  const b = makeBox(origin.root, origin.origin, box);
  const acts = asWorker(
    createTemporalActivities({
      activities: b.activities,
      executorId: box,
      taskQueuePrefix: "mtor",
      renewLease: async () => "held",
      heartbeatMs: 1000,
    }),
  );
  const routed = activitySteps({ shared: acts, onBox: () => acts, pause: async () => {} });
  const result = await runSteps(routed.calls, run, {
    now: () => Date.now(),
    classify: (err) => routed.classify(err, undefined),
  });
  return { ...result, boxQueue: routed.boxQueue(), reported: b.controlPlane.verdicts };
}

const comparable = (v: VerdictRequest) => {
  const { duration_ms, ...rest } = v;
  expect(duration_ms).toBeGreaterThanOrEqual(0);
  return rest;
};

describe("local and Temporal engines give the same verdict", () => {
  const cases: [string, string, Partial<VerdictRequest>][] = [
    ["a passing run", "commits", { outcome: "passed", branch: "mtor/k3f9x2ab-1", commits: 1 }],
    ["a gate rejection", "no-commit", { outcome: "rejected" }],
    [
      "a failed preflight",
      "bad-preflight",
      { outcome: "failed", failure: expect.objectContaining({ kind: "preflight" }) },
    ],
    [
      "a provider auth error",
      "auth-error",
      { outcome: "failed", failure: expect.objectContaining({ kind: "auth" }) },
    ],
  ];
  for (const [what, harness, expected] of cases) {
    it(`for ${what} (${harness})`, async () => {
      const runL = makeRun(harness, { runId: `l-${harness}` });
      const runT = { ...runL, run_id: `t-${harness}` };
      const l = await local(runL, `local-${harness}`);
      const t = await temporal(runT, `temporal-${harness}`);
      expect(comparable(l.verdict)).toMatchObject(expected);
      expect(comparable(t.verdict)).toEqual(comparable(l.verdict));
      expect(t.report).toEqual(l.report);
      expect(t.reported.map((r) => r.body)).toEqual([t.verdict]);
      expect(t.boxQueue).toBe(`mtor-demo@temporal-${harness}`);
    });
  }

  it("for a git failure (the repo cannot be fetched)", async () => {
    const runL = makeRun("commits", { runId: "l-git" });
    const runT = { ...runL, run_id: "t-git" };
    const l = await startRun(runL, {
      activities: makeBox(origin.root, `${origin.root}/missing.git`, "local-git").activities,
      client: { heartbeat: async () => ({ ok: true, status: 200, data: { cancel: false, expires_at: "" } }) },
      load: () => ({ cpu: 0, mem_free: 1 }),
      heartbeatMs: 1000,
    }).done;
    const tb = makeBox(origin.root, `${origin.root}/missing.git`, "temporal-git");
    const acts = asWorker(
      createTemporalActivities({
        activities: tb.activities,
        executorId: "t",
        taskQueuePrefix: "mtor",
        renewLease: async () => "held",
      }),
    );
    const routed = activitySteps({ shared: acts, onBox: () => acts, pause: async () => {} });
    const t = await runSteps(routed.calls, runT, {
      now: () => Date.now(),
      classify: (e) => routed.classify(e, undefined),
    });
    expect(comparable(l.verdict)).toMatchObject({ outcome: "failed", failure: { kind: "git" } });
    expect(comparable(t.verdict)).toEqual(comparable(l.verdict));
  });
});
