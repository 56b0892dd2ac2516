// The report as terse text for curl and phones: one line per spec, one per provider, totals.
import { budgetLines } from "@mtor/schema/format";
import { reviewBacklogText, windowsText } from "../text";
import type { Report } from "./build";

const pct = (r: number) => `${Math.round(r * 100)}%`;
const tokens = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
const hm = (isoTime: string) => isoTime.slice(0, 16).replace("T", " ");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + " ".repeat(n - s.length));

export function reportText(r: Report): string {
  const out: string[] = [];
  out.push(`mtor report ${hm(r.since)} → ${hm(r.until)} UTC${r.partial ? " (partial: too many runs)" : ""}`);
  out.push("");
  if (!r.specs.length) out.push("no runs finished in this window");
  else {
    out.push(`specs (${r.specs.length})`);
    for (const s of r.specs) {
      const lines = `+${s.lines.insertions} -${s.lines.deletions}`;
      const flags = s.flags.length ? `  ⚑ ${s.flags.join(",")}` : "";
      out.push(
        `  ${pad(s.id, 9)} ${pad(s.status, 15)} ${pad(s.grade ?? "-", 2)} ${pad(lines, 11)} ${pad(s.provider, 10)} ${s.title}${flags}${s.review_grade ? `  reviewer ${s.review_grade}` : ""}`,
      );
    }
  }
  if (r.providers.length) {
    out.push("");
    out.push("providers");
    for (const p of r.providers) {
      out.push(
        `  ${pad(p.name, 12)} runs ${pad(String(p.runs), 4)} pass ${pad(pct(p.pass_rate), 5)} ${pad(`${p.tasks_per_hour}/h`, 8)} tokens ${pad(tokens(p.input_tokens + p.output_tokens), 7)} $${p.cost_usd.toFixed(2)}`,
      );
      const grades = Object.entries(p.review_grades ?? {}).map(([g, n]) => `${g}×${n}`);
      if (grades.length || p.review_ungraded) {
        const none = p.review_ungraded
          ? `${grades.length ? ", " : ""}${p.review_ungraded} without a grade`
          : "";
        out.push(
          `  ${pad("", 12)} reviewer grades ${grades.join(" ")}${none}; reviewer tokens ${tokens(p.review_tokens)} $${p.review_cost_usd.toFixed(2)}`,
        );
      }
    }
  }
  const t = r.totals;
  out.push("");
  out.push(
    `totals: ${plural(t.specs, "spec")}, ${plural(t.runs, "run")}, ${t.passed} passed (${pct(t.pass_rate)}), ${t.rejected} rejected, ${t.failed} failed, +${t.lines.insertions} -${t.lines.deletions} lines, ${tokens(t.input_tokens + t.output_tokens)} tokens, $${t.cost_usd.toFixed(2)}`,
  );
  const statuses = Object.entries(t.by_status)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  if (statuses) out.push(`now: ${statuses}`);
  if (r.controls) {
    out.push(reviewBacklogText(r.controls.review_backlog));
    const windows = windowsText(r.controls.windows).trimEnd();
    if (windows) out.push(windows);
    if (r.controls.waiting_for_window > 0)
      out.push(`${plural(r.controls.waiting_for_window, "spec")} queued waiting for a run window`);
    out.push(...budgetLines(r.controls.budget));
    for (const h of r.controls.budget_holds) {
      const who = h.provider ? `provider ${h.provider}` : "the fleet";
      const until = h.to
        ? `until ${hm(h.to)} UTC (${(h.ended_by ?? "").replace("_", " ")})`
        : "and still holds";
      out.push(`budget of ${who} held claims (budget) from ${hm(h.from)} UTC ${until}`);
    }
  }
  return `${out.join("\n")}\n`;
}
