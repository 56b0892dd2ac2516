// Keeps `npm run bench -- --quick` working: every part runs against the real local stack, both
// policies run every profile on the same code, and every figure and target is present in
// bench/results.quick.json and the printed table. Nothing here asserts speed.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBench } from "../../../bench/run";
import { REPO_ROOT } from "../../src/local/control-plane";

describe("npm run bench -- --quick", () => {
  it("runs every part and writes every figure and target to bench/results.quick.json", {
    timeout: 600_000,
  }, async () => {
    const out = join(REPO_ROOT, "bench", "results.quick.json");
    const before = Date.now();
    const lines: string[] = [];
    const pictures = mkdtempSync(join(tmpdir(), "mtor-bench-pictures-"));
    const r = await runBench({ quick: true, out, pictures, log: (l) => lines.push(l) });
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
    const written = JSON.parse(readFileSync(out, "utf8")) as typeof r;
    const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
    expect(written.repeats).toBe(1);
    // The engines side by side: the same specs ran on both, and the ratio is theirs.
    expect(written.engines.specs).toBeGreaterThan(0);
    expect(written.engines.local_run_ms).toBeGreaterThan(0);
    expect(written.engines.temporal_run_ms).toBeGreaterThan(0);
    expect(written.engines.ratio).toBeCloseTo(
      written.engines.temporal_run_ms / written.engines.local_run_ms,
      1,
    );

    // The peer queue (BullMQ running the same executor steps) against mtor, from the same run.
    expect(written.engines.bullmq_enqueue_to_end_ms).toBeGreaterThan(0);
    expect(written.engines.local_enqueue_to_verdict_ms).toBeGreaterThan(0);
    expect(written.engines.bullmq_to_mtor).toBeCloseTo(
      written.engines.bullmq_enqueue_to_end_ms / written.engines.local_enqueue_to_verdict_ms,
      1,
    );

    // Both policies ran each profile on the real stack; fault-free mtor ran for the ceiling.
    expect(Object.keys(written.nights).sort()).toEqual(
      ["mtor/fault-free", "mtor/mild", "mtor/seed-night", "seed/mild", "seed/seed-night"].sort(),
    );
    for (const [key, n] of Object.entries(written.nights)) {
      expect(n.specs, key).toBeGreaterThan(0);
      expect(n.landed.runs, key).toHaveLength(1);
      for (const v of [
        n.landed.median,
        n.efficiency.median,
        n.task_efficiency.median,
        n.efficiency_of_all_slot_time.median,
      ])
        expect(finite(v), key).toBe(true);
      expect(n.task_efficiency.median, key).toBeLessThanOrEqual(n.efficiency.median);
      expect(Object.keys(n.wasted_slot_min).length, key).toBeGreaterThan(0);
    }
    // The pictures: landed specs per profile, and the seed night's slot timeline as the report
    // draws it (its lanes and run bars), fetched from the night's own control plane.
    for (const p of ["mild", "seed-night"])
      expect(readFileSync(join(pictures, `landed-${p}.svg`), "utf8")).toMatch(/^<svg/);
    for (const policy of ["mtor", "seed"]) {
      const svg = readFileSync(join(pictures, `timeline-${policy}-seed-night.svg`), "utf8");
      expect(svg, policy).toMatch(/^<svg/);
      expect(svg, policy).toContain('class="lane-label"');
      expect(svg, policy).toContain('class="run run-');
    }
    rmSync(pictures, { recursive: true, force: true });
    // Every part ran, and its wall time is recorded.
    expect(Object.keys(written.parts_wall_s).sort()).toEqual(
      ["capacity", "engines", "night", "overhead", "pickup", "requeue"].sort(),
    );
    // The seed night's scripted outages are left out of the available slot-time, for both.
    for (const key of ["mtor/seed-night", "seed/seed-night"] as const)
      expect(written.nights[key].provider_down_slot_min.median, key).toBeGreaterThan(0);
    // The seed policy's executors retry a failed preflight in their slot and let a loop run.
    expect(written.clock.policies.seed.executor).toMatchObject({ stopRunaways: false });
    expect(written.clock.policies.seed.executor.preflightRetries).toBeGreaterThan(0);
    expect(written.clock.policies.mtor.executor).toMatchObject({ preflightRetries: 0, stopRunaways: true });
    // The seed policy's killed executor stays dead; mtor's comes back.
    expect(written.nights["seed/seed-night"].kill[0]?.restarted).toBe(false);
    expect(written.nights["mtor/seed-night"].kill[0]?.restarted).toBe(true);
    // The baseline runs with the seed's switches, on the control plane's vars.
    expect(written.clock.policies.seed.vars.MTOR_BREAKER).toBe("off");
    expect(written.clock.policies.seed.vars.MTOR_SLOT_FEEDBACK).toBe("off");
    for (const p of written.profiles) {
      expect("ceiling" in p && "ratio" in p && "reachable" in p).toBe(true);
      // What the outages leave can never land more than the whole night does fault-free.
      if (p.reachable !== null && p.ceiling !== null)
        expect(p.reachable).toBeLessThanOrEqual(p.ceiling * 1.01);
    }

    expect(written.requeue.kills).toBeGreaterThanOrEqual(1);
    for (const v of written.requeue.requeue_s) expect(finite(v)).toBe(true);
    for (const v of [
      written.overhead.end_to_end_ms,
      written.overhead.overhead_ms,
      written.overhead.bare_claude_ms,
      written.overhead.overhead_to_bare_claude,
      written.overhead.bare_task_ms,
      written.overhead.end_to_end_less_bare_task_ms,
      written.overhead.end_to_end_less_bare_task_to_bare_task,
    ]) {
      expect(finite(v)).toBe(true);
    }
    // The overhead run's origin was reached through the 30 ms proxy.
    expect(written.overhead.origin.added_round_trip_ms).toBe(30);
    expect(written.overhead.origin.connections).toBeGreaterThan(0);
    for (const v of [written.pickup.mtor_ms.p50, written.pickup.bullmq_ms.p50]) expect(finite(v)).toBe(true);
    expect(written.capacity.sizes.length).toBeGreaterThanOrEqual(2);
    expect(finite(written.capacity.mixed.ops_per_s)).toBe(true);
    expect(written.capacity.mixed.errors).toBe(0);

    // One entry per target; a missed one says why.
    const names = written.targets.map((t) => t.name).join("\n");
    for (const what of [
      "seed-night ratio",
      "mild-profile ratio to its ceiling",
      "efficiency under mild",
      "efficiency under seed-night",
      "overhead with the preflight (ms",
      "overhead with the preflight ÷ bare",
      "ops/s",
      "pickup",
      "requeue",
    ])
      expect(names).toContain(what);
    for (const t of written.targets) {
      expect(typeof t.met).toBe("boolean");
      if (!t.met) expect(t.why.length, t.name).toBeGreaterThan(0);
    }
    // The table prints every target as met or missed.
    const table = lines.join("\n");
    for (const t of written.targets)
      expect(table).toMatch(new RegExp(`(met|missed) +${t.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect(table).toContain("ceiling");
  });
});
