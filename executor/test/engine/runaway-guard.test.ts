// The runaway guard: a harness that keeps committing is stopped once its branch passes the
// commit_flood cap, and the gates reject it; with stop_runaways off it runs to its timeout.
import { afterAll, describe, expect, it } from "vitest";
import { createActivities } from "../../src/engine/activities";
import { makeBox, makeOrigin, makeRun, SCRIPTS, shHarness } from "../temporal/helpers";

const origin = makeOrigin();
afterAll(() => origin.cleanup());

// A model looping on tests: one commit every 0.2 s, never stopping on its own.
SCRIPTS.loop = {
  preflight: "echo ok",
  run: 'i=0; while true; do i=$((i+1)); echo $i > test_$i.txt; git add test_$i.txt; git commit -q -m "add test $i"; sleep 0.2; done',
};

function activities(name: string, stopRunaways?: boolean) {
  const box = makeBox(origin.root, origin.origin, name);
  return createActivities({
    ...box.deps,
    config: { ...box.deps.config, ...(stopRunaways === undefined ? {} : { stopRunaways }) },
    harnessFor: shHarness,
  });
}

describe("the runaway guard", () => {
  it("stops a harness looping on commits, and the commit_flood gate rejects the branch", async () => {
    const acts = activities("guarded");
    const run = makeRun("loop", { timeout: "2m" });
    const prepared = await acts.prepareWorktree(run);
    expect((await acts.preflight(run)).ok).toBe(true);
    const started = Date.now();
    const harness = await acts.runHarness(run, prepared);
    // Stopped by the guard, not by the two-minute timeout.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(harness.ok).toBe(true);
    expect(harness.logTail).toMatch(/mtor stopped the harness: \d+ commits, over the commit_flood cap of 5/);
    const gates = await acts.runGates(run, prepared, harness);
    expect(gates.outcome).toBe("rejected");
    expect(gates.flags.map((f) => f.gate)).toContain("commit_flood");
  });

  it("lets it run to the spec's timeout with stop_runaways off (the seed's executor)", async () => {
    const acts = activities("unguarded", false);
    const run = makeRun("loop", { timeout: "8s" });
    const prepared = await acts.prepareWorktree(run);
    const harness = await acts.runHarness(run, prepared);
    expect(harness.ok).toBe(false);
    expect(harness.failure?.kind).toBe("timeout");
    expect(harness.logTail ?? "").not.toContain("mtor stopped the harness");
  });
});
