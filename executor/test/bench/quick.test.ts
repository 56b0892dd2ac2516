// Keeps `npm run bench -- --quick` working: every part runs against the real local stack and
// every figure is present in bench/results.json. Nothing here asserts speed.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBench } from "../../../bench/run";
import { REPO_ROOT } from "../../src/local/control-plane";

describe("npm run bench -- --quick", () => {
  it("runs every part and writes every figure to bench/results.json", { timeout: 600_000 }, async () => {
    const out = join(REPO_ROOT, "bench", "results.quick.json");
    const before = Date.now();
    const lines: string[] = [];
    const r = await runBench({ quick: true, out, log: (l) => lines.push(l) });
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
    const written = JSON.parse(readFileSync(out, "utf8")) as typeof r;
    const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
    expect(written.night.specs).toBeGreaterThan(0);
    for (const v of [
      written.night.landed_per_hour,
      written.night.efficiency,
      written.baseline.landed_per_hour,
      written.ratio_landed_per_hour,
    ]) {
      expect(finite(v), JSON.stringify(written.night)).toBe(true);
    }
    expect(Object.keys(written.night.wasted_slot_min).length).toBeGreaterThan(0);
    expect(written.night.kill.at_min).toBeGreaterThan(0);
    expect("failed_preflights_before_open" in written.night.breaker).toBe(true);
    for (const v of [
      written.overhead.end_to_end_ms,
      written.overhead.overhead_ms,
      written.overhead.bare_claude_ms,
      written.overhead.overhead_to_bare_claude,
    ]) {
      expect(finite(v)).toBe(true);
    }
    for (const k of ["harness_processes", "worktree", "gates", "push", "protocol"])
      expect(finite(written.overhead.split_ms[k])).toBe(true);
    for (const v of [
      written.pickup.mtor_ms.p50,
      written.pickup.mtor_ms.p99,
      written.pickup.bullmq_ms.p50,
      written.pickup.bullmq_ms.p99,
    ]) {
      expect(finite(v)).toBe(true);
    }
    expect(written.capacity.sizes.length).toBeGreaterThanOrEqual(2);
    expect(finite(written.capacity.mixed.ops_per_s)).toBe(true);
    expect(written.capacity.mixed.errors).toBe(0);
    // The table names every figure.
    const table = lines.join("\n");
    for (const label of [
      "mtor ÷ seed baseline",
      "efficiency",
      "breaker open",
      "killed executor",
      "orchestration overhead",
      "pickup p50",
      "Fleet mixed ops/s",
      "growth",
    ]) {
      expect(table).toContain(label);
    }
  });
});
