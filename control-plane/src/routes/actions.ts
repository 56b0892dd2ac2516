// Phone-action links (/actions/:token): GET shows a confirm page, so link previews and prefetches
// change nothing; POST (the page's button, or ntfy's `http` action) performs it once.
import { Grade } from "@mtor/schema/wire";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type BudgetAction, isBudgetAction, type PhoneAction, verifyActionToken } from "../actions/links";
import { budgetConfirmPage, budgetDonePage, confirmPage, donePage, refusedPage } from "../actions/page";
import { type AppEnv, fleetOf } from "../app-env";

/** The actions a link takes on a spec; the budget's raise and resume act on the fleet. */
type SpecAction = Exclude<PhoneAction, BudgetAction>;

const REFUSALS = {
  malformed: [
    400,
    "This link is not complete",
    "The link is cut off or was copied wrongly. Open it again from the notification.",
  ],
  tampered: [
    403,
    "This link is not valid",
    "The link was changed after it was sent, so it was refused. Use the link from the notification as it is.",
  ],
  expired: [
    410,
    "This link has expired",
    "Action links work for 24 hours. Open the spec in the dashboard or use the API to act on it.",
  ],
} as const;

function html(c: Context<AppEnv>, body: string, status: ContentfulStatusCode = 200) {
  c.header("cache-control", "no-store");
  c.header("referrer-policy", "no-referrer");
  return c.html(body, status);
}

async function check(c: Context<AppEnv>) {
  const fleet = fleetOf(c.env);
  const secret = c.env.ACTION_SECRET;
  if (!secret) {
    return {
      refused: html(
        c,
        refusedPage("Phone actions are off", "This control plane has no ACTION_SECRET set."),
        404,
      ),
    };
  }
  const result = await verifyActionToken(secret, c.req.param("token") ?? "", await fleet.now());
  if (!result.ok) {
    const [status, heading, message] = REFUSALS[result.reason];
    return { refused: html(c, refusedPage(heading, message), status) };
  }
  const usedAt = await fleet.linkUsedAt(result.claims.nonce);
  if (usedAt) {
    return {
      refused: html(
        c,
        refusedPage(
          "This link was already used",
          `It was used at ${usedAt.slice(0, 16).replace("T", " ")} UTC and works only once.`,
        ),
        409,
      ),
    };
  }
  return { claims: result.claims, fleet };
}

export const actionRoutes = new Hono<AppEnv>()
  .get("/:token", async (c) => {
    const r = await check(c);
    if (r.refused) return r.refused;
    if (isBudgetAction(r.claims.action)) {
      const budget = await r.fleet.budgetTarget(r.claims.runId);
      if (!budget.ok) return html(c, refusedPage("Nothing to do", budget.error.message), budget.status);
      return html(c, budgetConfirmPage(r.claims.action, budget.value, r.claims.expiresAt));
    }
    const target = await r.fleet.actionTarget(r.claims.specId);
    if (!target.ok)
      return html(c, refusedPage("Spec not found", `There is no spec ${r.claims.specId} any more.`), 404);
    return html(c, confirmPage(r.claims.action as SpecAction, target.value, r.claims.expiresAt));
  })
  .post("/:token", async (c) => {
    const r = await check(c);
    if (r.refused) return r.refused;
    if (isBudgetAction(r.claims.action)) {
      const action = r.claims.action;
      const done = await r.fleet.useBudgetLink({ ...r.claims, action });
      if (!done.ok) {
        const heading = done.error.code === "link_used" ? "This link was already used" : "Nothing to do";
        return html(c, refusedPage(heading, done.error.message), done.status >= 500 ? 409 : done.status);
      }
      return html(c, budgetDonePage(action, done.value));
    }
    let grade: string | undefined;
    let note: string | undefined;
    if ((c.req.header("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      const form = new URLSearchParams((await c.req.text()).slice(0, 16384));
      grade = form.get("grade") || undefined;
      note = form.get("note")?.slice(0, 4000) || undefined;
      if (grade && !Grade.safeParse(grade).success) grade = undefined;
    }
    const done = await r.fleet.useActionLink(r.claims, { grade, note });
    if (!done.ok) {
      const heading =
        done.error.code === "link_used" ? "This link was already used" : "This cannot be done now";
      return html(c, refusedPage(heading, done.error.message), done.status >= 500 ? 409 : done.status);
    }
    return html(c, donePage(r.claims.action as SpecAction, done.value));
  });
