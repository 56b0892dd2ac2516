// The one lease keeper both engines use: when it heartbeats, what it does with the answers.
import type { ClaimedRun, Phase } from "@mtor/schema";
import { describe, expect, it } from "vitest";
import { LeaseKeeper, type LeaseState } from "../../src/engine/lease";

const run = { run_id: "r1", spec_id: "s1", attempt: 1, lease: { token: "t" } } as unknown as ClaimedRun;

/** Lets every promise the keeper chained run (one turn of the event loop; nothing is timed). */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** A control plane the test answers by hand, one heartbeat at a time. */
function controlPlane() {
  const calls: Phase[] = [];
  const pending: ((s: LeaseState) => void)[] = [];
  return {
    calls,
    renew: (_run: ClaimedRun, phase: Phase) =>
      new Promise<LeaseState>((resolve) => {
        calls.push(phase);
        pending.push(resolve);
      }),
    /** Answers the oldest heartbeat waiting, then lets the keeper react. */
    async answer(state: LeaseState) {
      const next = pending.shift();
      if (!next) throw new Error("no heartbeat is waiting for an answer");
      next(state);
      await flush();
    },
    waiting: () => pending.length,
  };
}

function keeper(cp: ReturnType<typeof controlPlane>, phase: () => Phase | undefined = () => "harness") {
  const stops: string[] = [];
  const lines: string[] = [];
  let t = 0;
  const k = new LeaseKeeper({
    run,
    renew: cp.renew,
    everyMs: 3_600_000,
    report: () => {
      const p = phase();
      return p ? { phase: p } : undefined;
    },
    onStop: (r) => stops.push(r),
    log: (l) => lines.push(l),
    now: () => (t += 1500),
  });
  return { k, stops, lines };
}

describe("lease keeper", () => {
  it("beats at once, and sends beats asked for meanwhile as one, right after the one in flight", async () => {
    const cp = controlPlane();
    const { k } = keeper(cp);
    k.start();
    await flush();
    expect(cp.calls).toEqual(["harness"]);
    void k.beat();
    void k.beat();
    void k.beat();
    expect(cp.waiting()).toBe(1);
    await cp.answer("held");
    expect(cp.calls).toHaveLength(2);
    await cp.answer("held");
    expect(cp.waiting()).toBe(0);
    await k.close();
  });

  it("stops the run once when the lease is lost or the run killed, and renews nothing after", async () => {
    const cp = controlPlane();
    const { k, stops } = keeper(cp);
    k.start();
    await flush();
    await cp.answer("cancel");
    expect(stops).toEqual(["canceled"]);
    await k.beat();
    expect(cp.waiting()).toBe(0);
    expect(stops).toEqual(["canceled"]);
    await k.close();

    const cp2 = controlPlane();
    const lost = keeper(cp2);
    lost.k.start();
    await flush();
    await cp2.answer("lost");
    expect(lost.stops).toEqual(["lost_lease"]);
    await lost.k.close();
  });

  it("keeps the run going while the control plane is away, and says so once per outage", async () => {
    const cp = controlPlane();
    const { k, stops, lines } = keeper(cp);
    k.start();
    await flush();
    await cp.answer("unreachable");
    void k.beat();
    await flush();
    await cp.answer("unreachable");
    void k.beat();
    await flush();
    await cp.answer("held");
    expect(stops).toEqual([]);
    expect(lines).toEqual([
      "run s1-1 heartbeat: control plane unreachable; the run goes on",
      "run s1-1 heartbeat: control plane back after 1.5s",
    ]);
    await k.close();
  });

  it("skips a beat with nothing to report, and beats no more once closed", async () => {
    const cp = controlPlane();
    let phase: Phase | undefined;
    const { k } = keeper(cp, () => phase);
    k.start();
    await k.settled();
    expect(cp.calls).toEqual([]);
    phase = "gates";
    const confirm = k.beatNow();
    await flush();
    expect(cp.calls).toEqual(["gates"]);
    await cp.answer("held");
    await confirm;
    await k.close();
    await k.beat();
    expect(cp.calls).toEqual(["gates"]);
  });
});
