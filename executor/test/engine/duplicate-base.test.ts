// The duplicate gate's "already on base", through the executor's real wiring (defaultWiring's
// gates and sandbox, the shared activities): the gates compare the change with the base branch's
// tip fetched at gate time, not with the sha the run started from.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultWiring } from "../../src/daemon/wiring";
import { createActivities } from "../../src/engine/activities";
import { git, makeBox, makeOrigin, makeRun, SCRIPTS, shHarness } from "../temporal/helpers";

const { root, origin, cleanup } = makeOrigin();
afterAll(cleanup);

/** The test box's activities, wired as the daemon wires them (its gates and sandbox). */
async function activities(name: string) {
  const { deps } = makeBox(root, origin, name);
  const wiring = await defaultWiring({ harnesses: {}, sandbox: "bwrap", workdir: deps.config.workdir });
  return createActivities({ ...deps, ...wiring, harnessFor: shHarness });
}

describe("duplicate: already on base", () => {
  it("flags a change that landed on main while the run worked, and not one that did not", async () => {
    const acts = await activities("box");
    const run = makeRun("commits");
    const prepared = await acts.prepareWorktree(run);

    // Meanwhile someone lands the same change on main.
    const other = join(root, "someone");
    git(root, "clone", "-q", origin, other);
    execFileSync("sh", ["-c", SCRIPTS.commits.run], {
      cwd: other,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "p",
        GIT_AUTHOR_EMAIL: "p@p",
        GIT_COMMITTER_NAME: "p",
        GIT_COMMITTER_EMAIL: "p@p",
      },
    });
    git(other, "push", "-q", "origin", "main");

    const harness = await acts.runHarness(run, prepared);
    expect(harness.ok).toBe(true);
    // The origin check sees main move too: that run is rejected and reported either way.
    const check = await acts.checkOrigin(run, prepared);
    expect(check.security?.map((f) => f.gate)).toEqual(["protected_branch_touched"]);
    const gates = await acts.runGates(run, prepared, harness, undefined, check.baseTip);
    const dup = gates.flags.find((f) => f.gate === "duplicate");
    expect(dup?.detail).toMatch(/already on/);
    expect(gates.outcome).toBe("rejected");
    await acts.cleanup(run, prepared, false);

    // The next run starts from the new main: the change is not there twice, no duplicate.
    const again = makeRun("no-commit");
    const p2 = await acts.prepareWorktree(again);
    const h2 = await acts.runHarness(again, p2);
    const o2 = await acts.checkOrigin(again, p2);
    expect(o2.security).toBeUndefined();
    const g2 = await acts.runGates(again, p2, h2, undefined, o2.baseTip);
    expect(g2.flags.find((f) => f.gate === "duplicate")).toBeUndefined();
    await acts.cleanup(again, p2, false);
  });
});
