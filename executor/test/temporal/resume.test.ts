// With the Temporal engine a run outlives the executor process: after a restart, the claims the
// earlier process left are handed back to the engine (which attaches to their workflows) instead
// of being reported failed as the local engine must.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

function daemonAt(workdir: string, resumeLeftovers: boolean, started: ClaimedRun[], controlPlane?: string) {
  const config = parseConfig(
    minimalConfig({ controlPlane, top: ['engine = "temporal"', `workdir = ${JSON.stringify(workdir)}`] }),
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

  it("are named in the first claim with the boot they were left by, so the control plane ends only the rest of that process's runs", async () => {
    const workdir = join(dir, "boot");
    mkdirSync(workdir, { recursive: true });
    const previous = "7f3e8a52-0c1d-4b6e-9a0f-3d2c1b0a9e8f";
    writeFileSync(join(workdir, "boot"), `${previous}\n`);
    new ClaimLedger(join(workdir, "claims")).record(makeRun("commits", { runId: "left-3" }));
    // A control plane that records each claim's executor fields and has no work.
    const claims: Record<string, unknown>[] = [];
    let enough: () => void = () => {};
    const twoClaims = new Promise<void>((r) => {
      enough = r;
    });
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        if (req.url === "/v1/executor/claim") {
          claims.push(JSON.parse(body).executor);
          if (claims.length >= 2) enough();
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify(req.url === "/v1/executor/claim" ? { runs: [], reason: "empty" } : { status: "ok" }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const started: ClaimedRun[] = [];
      const daemon = daemonAt(workdir, true, started, url);
      const running = daemon.run();
      await twoClaims;
      await daemon.drain(true);
      await running;
      expect(started.map((r) => r.run_id)).toEqual(["left-3"]);
      const [first, second] = claims;
      expect(first).toMatchObject({ boot: daemon.boot, previous_boot: previous, resumed: ["left-3"] });
      expect(daemon.boot).not.toBe(previous);
      // Once a claim was answered the restart is known: later claims carry only the boot.
      expect(second).toMatchObject({ boot: daemon.boot });
      expect(second).not.toHaveProperty("previous_boot");
      expect(readFileSync(join(workdir, "boot"), "utf8").trim()).toBe(daemon.boot);
    } finally {
      server.close();
    }
  });
});
