// Terse aligned text tables for curl and phones (`Accept: text/plain` or `?format=text`).

import { budgetLines, usd } from "@mtor/schema/format";
import type { GateSettings } from "@mtor/schema/gates";
import type {
  BudgetView,
  ExecutorView,
  ProviderView,
  ReviewBacklog,
  SettingsView,
  SpecDetail,
  SpecList,
  StatusView,
  WindowView,
} from "@mtor/schema/wire";
import type { Context } from "hono";
import type { AppEnv } from "./app-env";

export function wantsText(c: Context<AppEnv>): boolean {
  const format = c.req.query("format");
  if (format) return format === "text";
  const accept = c.req.header("accept") ?? "";
  return /\btext\/plain\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((v) => (v === null || v === undefined || v === "" ? "-" : String(v)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return `${cells
    .map((r) =>
      r
        .map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i])))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

const short = (iso: string | null) => (iso ? iso.slice(5, 16).replace("T", " ") : "-");
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function specListText(list: SpecList): string {
  const out = table(
    ["ID", "STATUS", "PROVIDER", "TRY", "UPDATED", "TITLE"],
    list.specs.map((s) => [
      s.id,
      s.status,
      s.run_provider ?? s.provider,
      s.attempt,
      short(s.updated_at),
      clip(s.title, 60),
    ]),
  );
  return list.next_cursor ? `${out}next: ?cursor=${list.next_cursor}\n` : out;
}

export function specText(s: SpecDetail): string {
  const lines = [
    `${s.id}  ${s.status}  ${s.title}`,
    `repo ${s.repo}  provider ${s.provider}  attempt ${s.attempt}/${s.max_attempt}  priority ${s.front_matter.priority}`,
  ];
  if (s.outcome) lines.push(`outcome ${s.outcome}`);
  for (const f of s.flags) lines.push(`flag ${f.gate} (${f.action}): ${f.detail}`);
  if (s.next_attempt_at) lines.push(`next attempt ${s.next_attempt_at}`);
  if (s.review)
    lines.push(
      `review ${s.review.decision}${s.review.grade ? ` ${s.review.grade}` : ""} by ${s.review.by}${s.review.note ? `: ${s.review.note}` : ""}`,
    );
  let out = `${lines.join("\n")}\n`;
  if (s.runs.length > 0) {
    out += `\n${table(
      ["RUN", "TRY", "EXECUTOR", "PROVIDER", "STATUS", "OUTCOME", "BRANCH", "CLAIMED", "COST"],
      s.runs.map((r) => [
        r.id,
        r.attempt,
        r.executor,
        r.provider,
        r.status,
        r.outcome ?? r.phase,
        r.branch,
        short(r.claimed_at),
        r.cost_usd != null
          ? `${usd(r.cost_usd)}${r.cost_source === "reported" ? "" : ` (${r.cost_source})`}`
          : null,
      ]),
    )}`;
  }
  return out;
}

export function providersText(ps: ProviderView[]): string {
  return table(
    [
      "PROVIDER",
      "SLOTS",
      "EFFECTIVE",
      "IN_USE",
      "QUEUED",
      "BREAKER",
      "COOLING",
      "FROZEN",
      "ENABLED",
      "BUDGET",
      "PRICE_IN/OUT",
      "WINDOW",
    ],
    ps.map((p) => [
      p.name,
      p.slots,
      p.effective_slots,
      p.in_use,
      p.queued,
      p.breaker.state,
      short(p.cooling_until),
      p.frozen ? "yes" : "no",
      p.enabled ? "yes" : "no",
      p.budget_usd ? usd(p.budget_usd) : null,
      p.price ? `${p.price.input_per_mtok}/${p.price.output_per_mtok}` : null,
      p.window ? `${p.window.window} ${p.window.zone} ${p.window.open ? "open" : "closed"}` : null,
    ]),
  );
}

export function executorsText(es: ExecutorView[]): string {
  return table(
    ["EXECUTOR", "HOST", "VERSION", "CPU", "MEM_FREE", "RUNS", "DRAINING", "SEEN"],
    es.map((e) => [
      e.id,
      e.host,
      e.version,
      e.load ? e.load.cpu.toFixed(2) : null,
      e.load ? e.load.mem_free.toFixed(2) : null,
      `${e.runs.length}/${e.capacity}`,
      e.draining ? "yes" : "no",
      short(e.last_seen_at),
    ]),
  );
}

export function gatesText(gates: GateSettings): string {
  return table(
    ["GATE", "ACTION", "RETRY"],
    Object.entries(gates).map(([name, g]) => [name, g.action, g.retry ? "yes" : "no"]),
  );
}

export function statusText(s: StatusView): string {
  const counts = Object.entries(s.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join("  ");
  const hint = s.monitor_hint ? `\nmonitor: ${s.monitor_hint}\n` : "";
  const backlog =
    (s.review_backlog ? `${reviewBacklogText(s.review_backlog)}\n` : "") +
    (s.windows ? windowsText(s.windows) : "") +
    (s.budget ? budgetText(s.budget) : "");
  return `fleet ${s.frozen ? "FROZEN" : "running"}\n${counts || "no specs"}\n${backlog}${hint}\n${providersText(s.providers)}\n${executorsText(s.executors)}`;
}

const limitText = (n: number | null) => (n === null ? "fleet's" : n === 0 ? "off" : String(n));

/** One line for the fleet's review backlog, one per repo that is held. */
export function reviewBacklogText(b: ReviewBacklog): string {
  const lines = [
    `review backlog ${b.awaiting_review} of ${limitText(b.max_awaiting_review)}${b.holding ? " — HOLDING new claims (review_backlog)" : ""}`,
  ];
  for (const r of b.repos.filter((x) => x.holding)) {
    lines.push(
      `  repo ${r.repo}: ${r.awaiting_review} of ${r.max_awaiting_review} — HOLDING its claims (review_backlog)`,
    );
  }
  return lines.join("\n");
}

export function settingsText(s: SettingsView): string {
  const rows = s.review_backlog.repos.map((r) => [
    r.repo,
    r.awaiting_review,
    limitText(r.max_awaiting_review),
    r.holding ? "holding" : "",
  ]);
  return `max_awaiting_review ${limitText(s.max_awaiting_review)}\n${reviewBacklogText(s.review_backlog)}\n${windowsText(s.windows) || "no run window: claims any time\n"}${budgetText(s.budget)}fallback price $${s.fallback_run_usd.toFixed(2)} a run, phone raise $${s.raise_usd.toFixed(2)}\n${
    rows.length ? `\n${table(["REPO", "AWAITING", "LIMIT", ""], rows)}` : ""
  }`;
}

const hm = (iso: string) => iso.slice(0, 16).replace("T", " ");

/** One line per run window: open or closed, and when that changes (UTC). */
export function windowsText(w: SettingsView["windows"]): string {
  const line = (who: string, x: WindowView) =>
    `${who} window ${x.window} ${x.zone}${x.fit ? " (runs must fit)" : ""}: ${
      x.open
        ? `open, closes ${hm(x.next_change)} UTC`
        : `CLOSED — claims wait (outside_window) until ${hm(x.next_change)} UTC`
    }\n`;
  return (
    (w.fleet ? line("fleet", w.fleet) : "") +
    w.providers.map((p) => line(`provider ${p.provider}`, p)).join("")
  );
}

/** One line per budget: tonight's spend against it, and whether it holds new claims. */
export function budgetText(b: BudgetView): string {
  return `${budgetLines(b).join("\n")}\n`;
}
