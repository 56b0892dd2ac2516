// The morning report: every spec that ran in a window with its outcome, grade, lines changed and
// flags; per provider runs, pass rate, tasks per hour, tokens and cost; and totals. Computed from
// the runs that finished in the window (an indexed range on runs.finished_at).
import { runs, specs } from "@mtor/schema/tables/fleet";
import { monitorFlags } from "@mtor/schema/tables/webhooks";
import { and, asc, gte, inArray, lte } from "drizzle-orm";
import { iso } from "../core/clock";
import type { Db } from "../core/db";
import { nightControls } from "../fleet/controls";

/** A night has hundreds of runs, not tens of thousands; past this the report says it is partial. */
export const REPORT_RUN_CAP = 5000;

export interface ReportSpec {
  id: string;
  title: string;
  repo: string;
  provider: string;
  status: string;
  /** The last run's outcome in the window. */
  outcome: string | null;
  grade: string | null;
  /** The reviewer model's grade of the last run it looked at; null without one. */
  review_grade: string | null;
  runs: number;
  lines: { insertions: number; deletions: number };
  /** Gate names of the last run, plus the monitor's `runaway` / `stuck`. */
  flags: string[];
  branch: string | null;
}

export interface ReportProvider {
  name: string;
  runs: number;
  passed: number;
  rejected: number;
  failed: number;
  pass_rate: number;
  /** Runs per hour between the provider's first claim and last finish in the window. */
  tasks_per_hour: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  /** The reviewer model's grades of this provider's runs, by grade ("B+": 2). */
  review_grades: Record<string, number>;
  /** Runs the reviewer looked at but gave no grade (timeout, error, malformed answer). */
  review_ungraded: number;
  /** What the reviewer spent on this provider's runs, apart from the worker's tokens and cost. */
  review_tokens: number;
  review_cost_usd: number;
}

export interface Report {
  since: string;
  until: string;
  partial: boolean;
  specs: ReportSpec[];
  providers: ReportProvider[];
  totals: {
    specs: number;
    runs: number;
    passed: number;
    rejected: number;
    failed: number;
    pass_rate: number;
    lines: { insertions: number; deletions: number };
    input_tokens: number;
    output_tokens: number;
    cost_usd: number;
    /** Specs by their current status. */
    by_status: Record<string, number>;
  };
  /**
   * The night controls as they stand now: the review backlog against its limits, the run
   * windows, and how many queued specs wait while a window is closed.
   */
  controls: ReturnType<typeof nightControls>;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const rate = (part: number, whole: number) => (whole ? round(part / whole, 4) : 0);

export function buildReport(db: Db, since: number, until: number): Report {
  const finished = db
    .select()
    .from(runs)
    .where(and(gte(runs.finishedAt, since), lte(runs.finishedAt, until)))
    .orderBy(asc(runs.finishedAt))
    .limit(REPORT_RUN_CAP + 1)
    .all();
  const partial = finished.length > REPORT_RUN_CAP;
  const window = finished.slice(0, REPORT_RUN_CAP);

  const specIds = [...new Set(window.map((r) => r.specId))];
  const specRows = new Map<string, typeof specs.$inferSelect>();
  const marks = new Map<string, string[]>();
  for (let i = 0; i < specIds.length; i += 100) {
    const chunk = specIds.slice(i, i + 100);
    for (const s of db.select().from(specs).where(inArray(specs.id, chunk)).all()) specRows.set(s.id, s);
    for (const f of db.select().from(monitorFlags).where(inArray(monitorFlags.specId, chunk)).all()) {
      marks.set(f.specId, [...(marks.get(f.specId) ?? []), f.kind]);
    }
  }

  const bySpec = new Map<string, typeof window>();
  for (const r of window) bySpec.set(r.specId, [...(bySpec.get(r.specId) ?? []), r]);
  const reportSpecs: ReportSpec[] = [];
  for (const [id, rs] of bySpec) {
    const s = specRows.get(id);
    const last = rs[rs.length - 1];
    const withDiff = [...rs].reverse().find((r) => r.diffstat);
    reportSpecs.push({
      id,
      title: s?.title ?? id,
      repo: s?.repo ?? "",
      provider: last.provider,
      status: s?.status ?? "unknown",
      outcome: last.outcome,
      grade: s?.reviewGrade ?? null,
      review_grade: [...rs].reverse().find((r) => r.review?.grade)?.review?.grade ?? null,
      runs: rs.length,
      lines: {
        insertions: withDiff?.diffstat?.insertions ?? 0,
        deletions: withDiff?.diffstat?.deletions ?? 0,
      },
      flags: [...new Set([...last.flags.map((f) => f.gate), ...(marks.get(id) ?? [])])],
      branch: [...rs].reverse().find((r) => r.branch)?.branch ?? null,
    });
  }
  reportSpecs.sort((a, b) => a.id.localeCompare(b.id));

  const byProvider = new Map<string, typeof window>();
  for (const r of window) byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r]);
  const providers: ReportProvider[] = [...byProvider.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, rs]) => {
      const passed = rs.filter((r) => r.outcome === "passed").length;
      const first = Math.min(...rs.map((r) => r.claimedAt));
      const last = Math.max(...rs.map((r) => r.finishedAt ?? r.claimedAt));
      const hours = Math.max(last - first, 60_000) / 3_600_000;
      return {
        name,
        runs: rs.length,
        passed,
        rejected: rs.filter((r) => r.outcome === "rejected").length,
        failed: rs.filter((r) => r.outcome === "failed").length,
        pass_rate: rate(passed, rs.length),
        tasks_per_hour: round(rs.length / hours, 2),
        input_tokens: rs.reduce((n, r) => n + (r.usage?.input_tokens ?? 0), 0),
        output_tokens: rs.reduce((n, r) => n + (r.usage?.output_tokens ?? 0), 0),
        cost_usd: round(
          rs.reduce((n, r) => n + (r.usage?.cost_usd ?? 0), 0),
          4,
        ),
        ...reviewFigures(rs),
      };
    });

  const sum = (f: (p: ReportProvider) => number) => providers.reduce((n, p) => n + f(p), 0);
  const byStatus: Record<string, number> = {};
  for (const s of reportSpecs) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const totalRuns = sum((p) => p.runs);
  return {
    since: iso(since),
    until: iso(until),
    partial,
    specs: reportSpecs,
    providers,
    totals: {
      specs: reportSpecs.length,
      runs: totalRuns,
      passed: sum((p) => p.passed),
      rejected: sum((p) => p.rejected),
      failed: sum((p) => p.failed),
      pass_rate: rate(
        sum((p) => p.passed),
        totalRuns,
      ),
      lines: {
        insertions: reportSpecs.reduce((n, s) => n + s.lines.insertions, 0),
        deletions: reportSpecs.reduce((n, s) => n + s.lines.deletions, 0),
      },
      input_tokens: sum((p) => p.input_tokens),
      output_tokens: sum((p) => p.output_tokens),
      cost_usd: round(
        sum((p) => p.cost_usd),
        4,
      ),
      by_status: byStatus,
    },
    controls: nightControls(db, until),
  };
}

function reviewFigures(
  rs: (typeof runs.$inferSelect)[],
): Pick<ReportProvider, "review_grades" | "review_ungraded" | "review_tokens" | "review_cost_usd"> {
  const grades: Record<string, number> = {};
  let ungraded = 0;
  for (const r of rs) {
    if (!r.review) continue;
    if (r.review.grade) grades[r.review.grade] = (grades[r.review.grade] ?? 0) + 1;
    else ungraded++;
  }
  const spent = rs.map((r) => r.usage?.review).filter((u) => u !== undefined);
  return {
    review_grades: Object.fromEntries(Object.entries(grades).sort(([a], [b]) => a.localeCompare(b))),
    review_ungraded: ungraded,
    review_tokens: spent.reduce((n, u) => n + u.input_tokens + u.output_tokens, 0),
    review_cost_usd: round(
      spent.reduce((n, u) => n + u.cost_usd, 0),
      4,
    ),
  };
}
