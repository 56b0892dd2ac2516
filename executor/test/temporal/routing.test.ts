// Several boxes serving one provider queue: the box that prepares a run keeps its later steps,
// and a box already holding its capacity of runs refuses a new one, which then goes to a box
// with room. Real activities of two boxes, each call run as a worker would run it.
import type { ClaimedRun } from "@mtor/schema";
import { ApplicationFailure } from "@temporalio/common";
import { afterAll, describe, expect, it } from "vitest";
import { runSteps } from "../../src/engine/run-steps";
import { createTemporalActivities, type TemporalActivities } from "../../src/temporal/activities";
import { activitySteps, BUSY_FIRST_MS } from "../../src/temporal/activity-steps";
import { asWorker, makeBox, makeOrigin, makeRun, mockEnv, runIn } from "./helpers";

const origin = makeOrigin();
afterAll(() => origin.cleanup());

function boxActivities(name: string, capacity: number): TemporalActivities {
  const b = makeBox(origin.root, origin.origin, name);
  return createTemporalActivities({
    activities: b.activities,
    executorId: name,
    taskQueuePrefix: "mtor",
    renewLease: async () => "held",
    capacity: { demo: capacity },
  });
}

describe("runs across boxes", () => {
  it("a box at its capacity refuses a prepare as box_busy (not retried by Temporal), and takes runs again after cleanup", async () => {
    const acts = boxActivities("full", 1);
    const first = makeRun("commits", { runId: "cap-1" });
    const second: ClaimedRun = { ...makeRun("commits", { runId: "cap-2" }), spec_id: "zz9y8x7w" };
    const placed = await runIn(mockEnv(), acts.prepareWorktree, first);
    const err = await runIn(mockEnv(), acts.prepareWorktree, second).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe("box_busy");
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    // A retried prepare of the run it already holds is not refused.
    await expect(runIn(mockEnv(), acts.prepareWorktree, first)).resolves.toMatchObject({
      boxQueue: "mtor-demo@full",
    });
    await runIn(mockEnv(), acts.cleanup, first, placed.prepared, false);
    await expect(runIn(mockEnv(), acts.prepareWorktree, second)).resolves.toMatchObject({
      boxQueue: "mtor-demo@full",
    });
  });

  it("a refused run is offered again and runs wholly on the box with room", async () => {
    const busy = boxActivities("box-busy", 1);
    const free = boxActivities("box-free", 1);
    // box-busy already holds a run.
    await runIn(mockEnv(), busy.prepareWorktree, {
      ...makeRun("commits", { runId: "holder" }),
      spec_id: "hold0001",
    });

    // The provider queue hands the prepare to box-busy first, then to box-free.
    const pollers = [asWorker(busy, "box-busy"), asWorker(free, "box-free")];
    let polled = 0;
    const used: string[] = [];
    const pauses: number[] = [];
    const routed = activitySteps({
      shared: {
        prepareWorktree: (run) => {
          const w = pollers[polled++ % 2];
          used.push(w === pollers[0] ? "box-busy" : "box-free");
          return w.prepareWorktree(run);
        },
        reportVerdict: (run, v) => pollers[1].reportVerdict(run, v),
      },
      onBox: (step, queue) => {
        used.push(`${step}@${queue}`);
        return queue === "mtor-demo@box-free" ? pollers[1] : pollers[0];
      },
      pause: async (ms) => {
        pauses.push(ms);
      },
    });
    const run = makeRun("commits", { runId: "moved-1" });
    const result = await runSteps(routed.calls, run, {
      now: () => Date.now(),
      classify: (err) => routed.classify(err, undefined),
    });
    expect(result.verdict.outcome).toBe("passed");
    expect(routed.boxQueue()).toBe("mtor-demo@box-free");
    expect(pauses).toEqual([BUSY_FIRST_MS]);
    expect(used).toEqual([
      "box-busy",
      "box-free",
      "preflight@mtor-demo@box-free",
      "runHarness@mtor-demo@box-free",
      "checkOrigin@mtor-demo@box-free",
      "runGates@mtor-demo@box-free",
      "pushBranch@mtor-demo@box-free",
      "cleanup@mtor-demo@box-free",
    ]);
  });
});
