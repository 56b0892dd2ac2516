// The small pages a phone sees for an action link: a confirm form on GET, the result after POST,
// and a plain explanation when the link cannot be used. No stack traces, no JSON.
import type { PhoneAction } from "./links";

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

const VERBS: Record<PhoneAction, string> = { approve: "Approve", decline: "Decline", retry: "Retry" };

export function confirmPage(
  action: PhoneAction,
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

export function donePage(action: PhoneAction, spec: { id: string; title: string; status: string }): string {
  const past: Record<PhoneAction, string> = {
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
