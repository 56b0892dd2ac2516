// Short relative times and spend lines, so the dashboard, the text answers and the mtor CLI say
// "3m ago" and "$4.20 of $10.00" the same way.
import type { BudgetLine, BudgetView } from "./wire";

/** "3m ago", "2h ago", "in 40s"; "-" for no time, the input itself when it is not a date. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const span =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)}m`
        : abs < 86400
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86400)}d`;
  return s >= 0 ? `${span} ago` : `in ${span}`;
}

/** US dollars with cents: "$12.50". */
export const usd = (n: number): string => `$${n.toFixed(2)}`;

/**
 * One line per spend budget: tonight's spend against it, and whether it holds new claims; with
 * no fleet budget, the fleet's spend tonight.
 */
export function budgetLines(b: BudgetView): string[] {
  const hm = (iso: string) => iso.slice(0, 16).replace("T", " ");
  const line = (l: BudgetLine) => {
    const who = l.provider ? `provider ${l.provider}` : "fleet";
    const raised = l.raised_usd ? ` (${usd(l.budget_usd)} + ${usd(l.raised_usd)} raised)` : "";
    const state = l.holding
      ? " — HOLDING new claims (budget)"
      : l.resumed_until
        ? ` — resumed until ${hm(l.resumed_until)} UTC`
        : "";
    return `budget ${who} ${usd(l.spend_usd)} of ${usd(l.budget_usd + l.raised_usd)} tonight${raised}${state}`;
  };
  return [
    b.fleet ? line(b.fleet) : `spend ${usd(b.spend_usd)} tonight, no fleet budget`,
    ...b.providers.map(line),
  ];
}
