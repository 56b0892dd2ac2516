// `npm run bench [-- --quick]`: every benchmark against the real local stack, a table of the
// figures and bench/results.json. Quick mode is a much smaller version of every part (CI).
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { simulateBaseline } from "./baseline";
import { runCapacity } from "./capacity";
import { BENCH_DIR, cleanupAll, hookSignals, round } from "./lib";
import { runNight } from "./night";
import { runOverhead } from "./overhead";
import { runPickup } from "./pickup";
import { nightProfile } from "./profiles";

export interface BenchOptions {
  quick: boolean;
  out?: string;
  log?: (line: string) => void;
}

export async function runBench(opts: BenchOptions) {
  const log = opts.log ?? ((l: string) => console.log(l));
  const started = Date.now();
  hookSignals();
  try {
    const night = await runNight({ quick: opts.quick, log });
    await cleanupAll();
    // The baseline pays the same per-run overhead the real night measured.
    const overheadMin = Math.max(0, night.run_overhead_min);
    const baseline = simulateBaseline(nightProfile(opts.quick), overheadMin);
    // The seed's story read literally: every broken preflight burns the two-hour timeout.
    const baselineStrict = simulateBaseline(nightProfile(opts.quick), overheadMin, {
      brokenUntilTimeout: true,
    });
    const overhead = await runOverhead({ quick: opts.quick, log });
    await cleanupAll();
    const pickup = await runPickup({ quick: opts.quick, log });
    await cleanupAll();
    const capacity = await runCapacity({ quick: opts.quick, log });
    await cleanupAll();
    const results = {
      at: new Date().toISOString(),
      mode: opts.quick ? "quick" : "full",
      machine: {
        node: process.version,
        cores: cpus().length,
        mem_gib: round(totalmem() / 2 ** 30, 1),
        platform: process.platform,
      },
      wall_s: round((Date.now() - started) / 1000, 1),
      night,
      baseline: { ...baseline, run_overhead_min: round(overheadMin, 1) },
      ratio_landed_per_hour: round(night.landed_per_hour / baseline.landed_per_hour),
      baseline_broken_until_timeout: baselineStrict,
      ratio_landed_per_hour_vs_broken_until_timeout: round(
        night.landed_per_hour / baselineStrict.landed_per_hour,
      ),
      overhead,
      pickup,
      capacity,
    };
    // Quick runs (CI) never overwrite the full run's figures.
    const out = opts.out ?? join(BENCH_DIR, opts.quick ? "results.quick.json" : "results.json");
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(table(results));
    log(`results written to ${out}`);
    return results;
  } finally {
    await cleanupAll();
  }
}

type Results = Awaited<ReturnType<typeof runBench>>;

export function table(r: Omit<Results, never>): string {
  const rows: [string, string, string][] = [
    [
      "landed specs per night-hour (mtor)",
      `${r.night.landed_per_hour} (${r.night.landed}/${r.night.specs} in ${r.night.night_min} night-min)`,
      "",
    ],
    ["landed specs per night-hour (seed baseline, simulated)", `${r.baseline.landed_per_hour}`, ""],
    ["mtor ÷ seed baseline", `${r.ratio_landed_per_hour}`, "≥ 2.0"],
    [
      "… baseline where a broken preflight burns 2 h",
      `${r.baseline_broken_until_timeout.landed_per_hour} per night-hour; mtor ÷ it ${r.ratio_landed_per_hour_vs_broken_until_timeout}`,
      "",
    ],
    [
      "efficiency (useful ÷ available slot-time)",
      `${r.night.efficiency} (baseline ${r.baseline.efficiency})`,
      "≥ 0.90",
    ],
    [
      "wasted slot-time by cause (night-min)",
      Object.entries(r.night.wasted_slot_min)
        .map(([k, v]) => `${k} ${v}`)
        .join("; ") || "none",
      "",
    ],
    [
      "breaker open on the failing provider",
      r.night.breaker.opened_at_min === null
        ? "never opened"
        : `at ${r.night.breaker.opened_at_min} night-min after ${r.night.breaker.failed_preflights_before_open} failed preflights`,
      "≤ 3 failed preflights",
    ],
    [
      "killed executor's run: lease ended / back in queue",
      r.night.kill.runs_held === 0
        ? "no run held at the kill"
        : `${r.night.kill.lease_ended_fleet_s ?? "?"} s / ${r.night.kill.requeue_fleet_s ?? "?"} s on the control plane's clock (bound ${r.night.kill.bound_fleet_s} s; ended by ${r.night.kill.ended_by ?? "?"})`,
      "≤ lease TTL + one monitor pass",
    ],
    [
      "orchestration overhead (5 000 files, claude)",
      `${r.overhead.overhead_ms} ms of ${r.overhead.end_to_end_ms} ms end to end; split ${Object.entries(
        r.overhead.split_ms,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
      "≤ 1 s median",
    ],
    [
      "overhead ÷ bare claude --print",
      `${r.overhead.overhead_to_bare_claude} (bare ${r.overhead.bare_claude_ms} ms)`,
      "≤ 1.5",
    ],
    [
      "overhead with the preflight counted",
      `${r.overhead.overhead_with_preflight_ms} ms, ${r.overhead.overhead_with_preflight_to_bare_claude}× bare claude`,
      "≤ 1 s and ≤ 1.5×",
    ],
    ["sandbox start (bwrap)", `${r.overhead.sandbox_start_ms ?? "?"} ms`, "< 50 ms"],
    [
      "pickup p50 / p99 (mtor)",
      `${r.pickup.mtor_ms.p50} / ${r.pickup.mtor_ms.p99} ms over ${r.pickup.samples}`,
      "p50 ≤ 25 ms",
    ],
    [
      "pickup p50 / p99 (BullMQ, local redis)",
      `${r.pickup.bullmq_ms.p50} / ${r.pickup.bullmq_ms.p99} ms`,
      "",
    ],
    ["pickup mtor ÷ BullMQ (p50 / p99)", `${r.pickup.ratio_p50} / ${r.pickup.ratio_p99}`, "reported"],
    [
      "Fleet mixed ops/s",
      `${r.capacity.mixed.ops_per_s} (${r.capacity.mixed.queued} queued, ${r.capacity.mixed.history} in history, ${r.capacity.mixed.errors} errors; p50 claim ${r.capacity.mixed.p50_ms.claim} / heartbeat ${r.capacity.mixed.p50_ms.heartbeat} / verdict ${r.capacity.mixed.p50_ms.verdict} ms with ${r.capacity.mixed.clients} clients; one client alone: claim ${r.capacity.serial_claim_p50_ms} / heartbeat ${r.capacity.serial_heartbeat_p50_ms} ms)`,
      "≥ 300",
    ],
    ...r.capacity.sizes.map((s): [string, string, string] => [
      `list / monitor p99 (p50) at ${s.specs} specs`,
      `${s.list_p99_ms} (${s.list_p50_ms}) / ${s.monitor_p99_ms} (${s.monitor_p50_ms}) ms`,
      "",
    ]),
    [
      "list / monitor p99 growth (largest ÷ 1k)",
      `${r.capacity.list_growth} / ${r.capacity.monitor_growth}`,
      "≤ 2",
    ],
    ["bench wall time", `${r.wall_s} s (${r.mode})`, r.mode === "full" ? "< 600 s" : ""],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b}${c ? `   [target ${c}]` : ""}`).join("\n");
}

if (process.argv[1] && /bench[/\\]run\.ts$/.test(process.argv[1])) {
  const quick = process.argv.includes("--quick");
  runBench({ quick }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
