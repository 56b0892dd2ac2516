// With the Temporal engine a run outlives the executor process: after a restart, the claims the
// earlier process left are handed back to the engine (which attaches to their workflows) instead
// of being reported failed as the local engine must.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClaimedRun } from "@mtor/schema";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { Daemon } from "../../src/daemon";
import { ClaimLedger } from "../../src/daemon/recover";
import { createSandbox } from "../../src/sandbox";
import { MINIMAL_ENV, minimalConfig } from "../config-fixture";
import { makeRun } from "./helpers";

const dir = mkdtempSync(join(tmpdir(), "mtor-temporal-resume-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function daemonAt(workdir: string, resumeLeftovers: boolean, started: ClaimedRun[]) {
  const config = parseConfig(
    minimalConfig({ top: ['engine = "temporal"', `workdir = ${JSON.stringify(workdir)}`] }),
    MINIMAL_ENV,
    dir,
  );
  return new Daemon({
    config,
    wiring: {
      sandbox: createSandbox("none"),
      harnessFor: () => {
        throw new Error("no harness in this test");
      },
      buildPrompt: (s) => s.body,
    },
    log: () => {},
    resumeLeftovers,
    runner: (run) => {
      started.push(run);
      const verdict = { token: run.lease.token, outcome: "passed" as const, flags: [], duration_ms: 1 };
      return {
        run,
        done: Promise.resolve({ verdict, report: { accepted: true, status: "awaiting_review" } }),
        stop: () => {},
      };
    },
  });
}

describe("leftover claims after a restart", () => {
  it("are resumed through the engine when its work outlives the process, and no failed verdict is spooled", async () => {
    const workdir = join(dir, "resume");
    const run = makeRun("commits", { runId: "left-1" });
    new ClaimLedger(join(workdir, "claims")).record(run);
    const started: ClaimedRun[] = [];
    const daemon = daemonAt(workdir, true, started);
    const drained = daemon.drain();
    await daemon.run();
    await drained;
    expect(started.map((r) => r.run_id)).toEqual(["left-1"]);
    expect(daemon.spool.pending()).toEqual([]);
    expect(daemon.ledger.leftovers()).toEqual([]);
  });

  it("are reported failed without it (the local engine's recovery)", async () => {
    const workdir = join(dir, "local");
    const run = makeRun("commits", { runId: "left-2" });
    new ClaimLedger(join(workdir, "claims")).record(run);
    const started: ClaimedRun[] = [];
    const daemon = daemonAt(workdir, false, started);
    daemon.spool.stop();
    const drained = daemon.drain();
    await daemon.run();
    await drained;
    expect(started).toEqual([]);
    expect(daemon.spool.pending().map((e) => [e.run_id, e.verdict.outcome])).toEqual([["left-2", "failed"]]);
  });
});
