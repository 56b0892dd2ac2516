// Using a verified phone-action link: what it points at (for the confirm page), and the action
// itself with its nonce burnt in the same transaction, on a spec or on a reached budget.
import { actionLinks } from "@mtor/schema/tables/webhooks";
import type { BudgetLine, SpecSummary } from "@mtor/schema/wire";
import { eq } from "drizzle-orm";
import { iso } from "../core/clock";
import type { Db, Deps } from "../core/db";
import { ApiError } from "../errors";
import { budgetTarget, useBudgetAction } from "../fleet/budget";
import { fleetSettings } from "../fleet/controls";
import { approve, decline, getSpec, retry } from "../fleet/queue";
import type { ActionClaims, BudgetAction } from "./links";

/** The spec a link points at, for the confirm page. */
export function actionTarget(
  tx: Db,
  specId: string,
): { id: string; title: string; status: string; used_at: string | null } {
  const s = getSpec(tx, specId);
  return { id: s.id, title: s.title, status: s.status, used_at: null };
}

export function linkUsedAt(db: Db, nonce: string): string | null {
  const used = db.select().from(actionLinks).where(eq(actionLinks.nonce, nonce)).get();
  return used ? iso(used.usedAt) : null;
}

/** The budget a budget link was sent for, for the confirm page. */
export function budgetLinkTarget(tx: Db, now: number, reachId: string): BudgetLine & { raise_usd: number } {
  return budgetTarget(tx, now, fleetSettings(tx), reachId);
}

/** Records a link as used; a link used before is refused. */
function burn(tx: Db, now: number, claims: ActionClaims): void {
  const used = tx.select().from(actionLinks).where(eq(actionLinks.nonce, claims.nonce)).get();
  if (used) {
    throw new ApiError(409, "link_used", `this link was already used at ${iso(used.usedAt)}`, {
      used_at: iso(used.usedAt),
    });
  }
  tx.insert(actionLinks)
    .values({
      nonce: claims.nonce,
      specId: claims.specId,
      action: claims.action,
      expiresAt: claims.expiresAt,
      usedAt: now,
    })
    .run();
}

/** Performs a verified budget link ("raise", "resume") and burns its nonce; run it in one transaction. */
export function useBudgetLink(
  tx: Db,
  deps: Deps,
  claims: ActionClaims & { action: BudgetAction },
): BudgetLine {
  const now = deps.now();
  burn(tx, now, claims);
  return useBudgetAction(tx, now, fleetSettings(tx), claims.runId, claims.action, deps.spend);
}

/**
 * Performs a verified link's action and burns its nonce; run it in one transaction, so a
 * refused transition leaves the link unused and a used link never acts twice.
 */
export function useActionLink(
  tx: Db,
  deps: Deps,
  claims: ActionClaims,
  input: { grade?: string; note?: string } = {},
): SpecSummary {
  // Burnt first: a refused transition rolls the whole transaction back, the burn with it.
  burn(tx, deps.now(), claims);
  const current = getSpec(tx, claims.specId);
  if (current.currentRunId !== claims.runId) {
    throw new ApiError(
      409,
      "link_stale",
      `this link was sent for run ${claims.runId}; spec ${claims.specId} has moved on to attempt ${current.attempt} since`,
      { run_id: claims.runId, current_run_id: current.currentRunId },
    );
  }
  const by = "phone link";
  if (claims.action === "approve")
    return approve(tx, deps, claims.specId, { grade: input.grade, note: input.note }, by);
  if (claims.action === "decline") return decline(tx, deps, claims.specId, { note: input.note }, by);
  if (claims.action === "retry") {
    // A spec awaiting review is retried by declining it with a retry, as the API would.
    return current.status === "awaiting_review"
      ? decline(tx, deps, claims.specId, { retry: true, note: "retry requested from a phone" }, by)
      : retry(tx, deps, claims.specId);
  }
  throw new ApiError(400, "invalid_request", `${claims.action} acts on a budget, not on a spec`);
}
