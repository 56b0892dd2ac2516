// The small pages a phone sees for an action link: a confirm form on GET, the result after POST,
// and a plain explanation when the link cannot be used. No stack traces, no JSON.
import type { BudgetLine } from "@mtor/schema/wire";
import type { BudgetAction, PhoneAction } from "./links";

type SpecAction = Exclude<PhoneAction, BudgetAction>;

const esc = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${esc(title)} · mtor</title>
<style>
body{font:16px/1.45 system-ui,sans-serif;margin:0;padding:1.2rem;max-width:32rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.25rem;margin:.2rem 0 1rem}.spec{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.8rem;margin-bottom:1rem}
.muted{color:#666;font-size:.9rem}button{font-size:1.1rem;padding:.7rem 1.2rem;border-radius:8px;border:0;color:#fff;background:#2e7d32;width:100%}
button.decline{background:#c62828}button.retry{background:#1565c0}textarea,select{width:100%;font:inherit;margin:.3rem 0 .8rem;box-sizing:border-box}
</style></head><body>${body}</body></html>`;
}

const VERBS: Record<SpecAction, string> = { approve: "Approve", decline: "Decline", retry: "Retry" };

export function confirmPage(
  action: SpecAction,
  spec: { id: string; title: string; status: string },
  expiresAt: number,
): string {
  const extra =
    action === "approve"
      ? `<label>Grade (optional)<select name="grade"><option value="">—</option>${[
          "A",
          "A-",
          "B+",
          "B",
          "B-",
          "C",
          "D",
          "F",
        ]
          .map((g) => `<option>${g}</option>`)
          .join("")}</select></label>`
      : action === "decline"
        ? `<label>Note (optional)<textarea name="note" rows="3" maxlength="4000"></textarea></label>`
        : "";
  return layout(
    `${VERBS[action]} ${spec.id}`,
    `<h1>${VERBS[action]} this spec?</h1>
<div class="spec"><strong>${esc(spec.title)}</strong><div class="muted">${esc(spec.id)} · now ${esc(spec.status)}</div></div>
<form method="post">${extra}<button class="${action}" type="submit">${VERBS[action]}</button></form>
<p class="muted">This link works once and expires ${esc(new Date(expiresAt).toISOString().slice(0, 16).replace("T", " "))} UTC.</p>`,
  );
}

export function donePage(action: SpecAction, spec: { id: string; title: string; status: string }): string {
  const past: Record<SpecAction, string> = {
    approve: "Approved",
    decline: "Declined",
    retry: "Queued again",
  };
  return layout(
    past[action],
    `<h1>${past[action]}</h1><div class="spec"><strong>${esc(spec.title)}</strong><div class="muted">${esc(spec.id)} · now ${esc(spec.status)}</div></div>`,
  );
}

export function refusedPage(heading: string, message: string): string {
  return layout(heading, `<h1>${esc(heading)}</h1><p>${esc(message)}</p>`);
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const utc = (at: string | number) => new Date(at).toISOString().slice(0, 16).replace("T", " ");
const scopeOf = (line: BudgetLine) => (line.provider ? `provider ${line.provider}` : "the fleet");

function budgetBox(line: BudgetLine): string {
  const budget = line.budget_usd + line.raised_usd;
  return `<div class="spec"><strong>Budget of ${esc(scopeOf(line))}</strong><div class="muted">spent ${usd(line.spend_usd)} of ${usd(budget)} tonight${line.raised_usd ? ` (${usd(line.budget_usd)} + ${usd(line.raised_usd)} raised)` : ""} · ${line.holding ? "new runs wait" : "claiming"}</div></div>`;
}

/** The confirm page of a budget link: what the budget stands at and what the tap will do. */
export function budgetConfirmPage(
  action: BudgetAction,
  line: BudgetLine & { raise_usd: number },
  expiresAt: number,
): string {
  const verb = action === "raise" ? `Raise by ${usd(line.raise_usd)}` : "Resume until morning";
  const what =
    action === "raise"
      ? `Adds ${usd(line.raise_usd)} to the budget of ${esc(scopeOf(line))} for the rest of the night.`
      : `Lets new runs start again until morning, whatever they spend.`;
  return layout(
    verb,
    `<h1>${esc(verb)}?</h1>${budgetBox(line)}<p>${what}</p>
<form method="post"><button class="retry" type="submit">${esc(verb)}</button></form>
<p class="muted">This link works once and expires ${esc(utc(expiresAt))} UTC.</p>`,
  );
}

export function budgetDonePage(action: BudgetAction, line: BudgetLine): string {
  const heading = action === "raise" ? "Budget raised" : "Resumed until morning";
  const after = line.holding
    ? "The spend is still over the raised budget, so new runs still wait; a new notification carries new links."
    : line.resumed_until
      ? `New runs start again until ${utc(line.resumed_until)} UTC.`
      : "New runs start again.";
  return layout(heading, `<h1>${heading}</h1>${budgetBox(line)}<p>${esc(after)}</p>`);
}
