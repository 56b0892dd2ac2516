// `npm run fuzz`: the control plane's fuzz properties (control-plane/test/fuzz.test.ts) with
// ≥ 2 000 cases in total, inside workerd like `npm test`, then a summary by property and status.
// MTOR_FUZZ_RUNS sets the total (default 2400); a failure prints fast-check's seed and exits 1.
//
// Each property runs in its own vitest run (a fresh workerd): the workers pool as
// @cloudflare/vitest-pool-workers 0.23 shipped it nested one more Proxy around its
// entrypoint's prototype for every SELF.fetch, so a few thousand requests in one isolate
// ended in "Maximum call stack size exceeded".
import type { Reporter, TestCase } from "vitest/node";
import { startVitest } from "vitest/node";

const total = Number(process.env.MTOR_FUZZ_RUNS ?? 2400);
if (!Number.isInteger(total) || total < 1) {
  console.error(`MTOR_FUZZ_RUNS must be a positive integer (got ${process.env.MTOR_FUZZ_RUNS})`);
  process.exit(2);
}

interface Row {
  name: string;
  state: string;
  cases: number;
  statuses: Record<string, number>;
  ms: number;
}
const rows: Row[] = [];

const summary: Reporter = {
  onTestCaseResult(test: TestCase) {
    if (test.result().state === "skipped") return;
    const meta = test.meta().fuzz;
    rows.push({
      name: test.name,
      state: test.result().state,
      cases: meta?.cases ?? 0,
      statuses: meta?.statuses ?? {},
      ms: test.diagnostic()?.duration ?? 0,
    });
  },
};

/** The start of each property's test name in control-plane/test/fuzz.test.ts. */
const PROPERTIES = [
  "refuses every route to a wrong principal",
  "answers malformed input from the right principal",
  "refuses missing, malformed, forged, stale and tampered signatures",
  "answers correctly signed but malformed messages",
  "never acts without a session, this origin and the form token",
  "refuses every token it did not sign",
  "answers unknown methods and paths",
  "GET /healthz answers 200",
];
const asPattern = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const started = Date.now();
for (const name of PROPERTIES) {
  const before = rows.length;
  const vitest = await startVitest("test", ["control-plane/test/fuzz.test.ts"], {
    run: true,
    watch: false,
    project: ["control-plane"],
    provide: { fuzzRuns: total },
    testNamePattern: asPattern(name),
    reporters: ["default", summary],
  });
  await vitest?.close();
  if (rows.length === before)
    rows.push({ name: `${name} (did not run)`, state: "failed", cases: 0, statuses: {}, ms: 0 });
}

const cases = rows.reduce((n, r) => n + r.cases, 0);
const byStatus: Record<string, number> = {};
for (const r of rows) for (const [s, n] of Object.entries(r.statuses)) byStatus[s] = (byStatus[s] ?? 0) + n;
const failed = rows.filter((r) => r.state !== "passed");
const fivexx = Object.entries(byStatus).filter(([s]) => Number(s) >= 500);

console.log("\nmtor fuzz summary");
for (const r of rows) {
  const top = Object.entries(r.statuses)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${s}×${n}`)
    .join(" ");
  console.log(
    `  ${r.state === "passed" ? "ok  " : "FAIL"} ${String(r.cases).padStart(5)} cases  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.name.replace(/ \(\d+ cases\)$/, "")}\n        ${top}`,
  );
}
console.log(
  `  total: ${cases} cases in ${((Date.now() - started) / 1000).toFixed(0)} s; answers by status: ${JSON.stringify(byStatus)}`,
);
console.log(
  `  5xx answers: ${fivexx.length ? JSON.stringify(Object.fromEntries(fivexx)) : 0}; failed properties: ${failed.length}`,
);
if (failed.length || fivexx.length || cases < Math.min(total, 2000) || rows.length === 0)
  process.exitCode = 1;
