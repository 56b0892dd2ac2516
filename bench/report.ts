// `tsx bench/report.ts`: the latest bench/results.json and bench/chaos.json as Markdown tables,
// for docs/performance.md and docs/reliability.md.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./lib";
import { table } from "./run";

const results = JSON.parse(readFileSync(join(BENCH_DIR, "results.json"), "utf8"));
console.log("| figure | result | target |\n| --- | --- | --- |");
for (const line of table(results).split("\n")) {
  const m = /^(.*?)\s{2,}(.*?)(?:\s+\[target (.*)\])?$/.exec(line);
  if (m) console.log(`| ${m[1]} | ${m[2]} | ${m[3] ?? ""} |`);
}
try {
  const chaos = JSON.parse(readFileSync(join(BENCH_DIR, "chaos.json"), "utf8"));
  console.log(`\n\`\`\`json\n${JSON.stringify(chaos, null, 2)}\n\`\`\``);
} catch {
  // No chaos run yet.
}
