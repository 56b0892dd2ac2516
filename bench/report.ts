// `tsx bench/report.ts [results.json]`: the latest bench results as Markdown tables (nights,
// ratios with their ceilings, targets) for docs/performance.md, and bench/chaos.json if present.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./lib";
import type { runBench, Spread } from "./run";

type Results = Awaited<ReturnType<typeof runBench>>;
const file = process.argv[2] ?? join(BENCH_DIR, "results.json");
const r = JSON.parse(readFileSync(file, "utf8")) as Results;
const s3 = (s: Spread) => `${s.median} (${s.min}–${s.max})`;

console.log(
  `${r.mode} run of ${r.at}, ${r.repeats === 1 ? "1 run per night (quick)" : `median (min–max) of ${r.repeats} runs per night`}, ${r.wall_s} s on ${r.machine.cores} cores (load average at the end ${r.machine.loadavg_at_end.join(", ")})\n`,
);
console.log(
  "| night (policy/profile) | landed | efficiency | task-only | of all slot-time | provider down (slot-min) | slot-time lost (mean slot-min) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [key, n] of Object.entries(r.nights)) {
  const lost = Object.entries(n.wasted_slot_min)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join("; ");
  console.log(
    `| ${key} | ${s3(n.landed)} | ${s3(n.efficiency)} | ${s3(n.task_efficiency)} | ${s3(n.efficiency_of_all_slot_time)} | ${s3(n.provider_down_slot_min)} | ${lost} |`,
  );
}
console.log(
  "\n| profile | mtor ÷ seed baseline | per repeat | ceiling (fault-free mtor ÷ baseline) | reachable (efficiency 1.0 on the slot-time outages leave) |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const p of r.profiles)
  console.log(
    `| ${p.profile} | ${p.ratio ?? "none"} | ${p.ratio_runs.join(", ")} | ${p.ceiling ?? "none"} | ${p.reachable ?? "none"} |`,
  );
console.log(
  `\nPeers, from the same run: the Temporal engine ÷ the local engine per run ${r.engines.ratio}; BullMQ running the same executor steps ÷ mtor, enqueue → verdict ${r.engines.bullmq_to_mtor} (${r.engines.bullmq_enqueue_to_end_ms} ms vs ${r.engines.local_enqueue_to_verdict_ms} ms).`,
);
console.log("\n| target | value | target | met | why missed |");
console.log("| --- | --- | --- | --- | --- |");
for (const t of r.targets)
  console.log(`| ${t.name} | ${t.value ?? "none"} | ${t.target} | ${t.met ? "met" : "missed"} | ${t.why} |`);
try {
  const chaos = JSON.parse(readFileSync(join(BENCH_DIR, "chaos.json"), "utf8"));
  console.log(`\n\`\`\`json\n${JSON.stringify(chaos, null, 2)}\n\`\`\``);
} catch {
  // No chaos run yet.
}
