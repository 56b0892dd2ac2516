// What the Fleet does for notifications — webhook endpoints, deliveries driven by its alarm, phone
// actions, the report and the monitor pass — gathered so the Fleet's RPC methods stay one-liners.
import { actionLinks } from "@mtor/schema/tables/webhooks";
import type { BudgetLine, SpecSummary, WebhookEvent, WebhookFormat } from "@mtor/schema/wire";
import { eq } from "drizzle-orm";
import type { ActionClaims, BudgetAction } from "../actions/links";
import { iso } from "../core/clock";
import type { Db, Deps } from "../core/db";
import { ApiError, type Result } from "../errors";
import { budgetTarget, useBudgetAction } from "../fleet/budget";
import { fleetSettings } from "../fleet/controls";
import { approve, decline, getSpec, retry } from "../fleet/queue";
import { lastPass, type MonitorPassResult, type PassView, runMonitorPass } from "../monitor/pass";
import { buildReport, type Report } from "../report/build";
import { allowPrivate, runWebhookAlarm, sendTestDelivery } from "./deliver";
import {
  createEndpoint,
  type DeliveryView,
  deleteEndpoint,
  deliveryView,
  type EndpointView,
  listDeliveries,
  listEndpoints,
  redeliver,
} from "./endpoints";

export interface WebhookCreateInput {
  url: string;
  events: WebhookEvent[];
  format: WebhookFormat;
  secret?: string;
  links_base: string;
  created_by: string | null;
}

export class Notifications {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly deps: Deps,
    /** Asks the Fleet's alarm to run now: the outbox or a delivery has work. */
    private readonly wake: () => void,
  ) {}

  private get db(): Db {
    return this.deps.db;
  }

  private tx<T>(fn: (tx: Db) => T): Result<T> {
    try {
      return { ok: true, value: this.storage.transactionSync(() => fn(this.db)) };
    } catch (err) {
      if (err instanceof ApiError) return { ok: false, status: err.status, error: err.toBody() };
      throw err;
    }
  }

  /** One alarm's webhook work; returns when it wants to run again (Fleet clock, ms) or null. */
  alarm(): Promise<number | null> {
    return runWebhookAlarm(this.deps, this.env);
  }

  // ------------------------------------------------------------ endpoints

  createWebhook(input: WebhookCreateInput): Result<EndpointView & { secret: string }> {
    return createEndpoint(
      this.db,
      this.deps.now(),
      {
        url: input.url,
        events: input.events,
        format: input.format,
        secret: input.secret,
        linksBase: input.links_base,
        createdBy: input.created_by,
      },
      allowPrivate(this.env),
    );
  }

  listWebhooks(): Result<EndpointView[]> {
    return { ok: true, value: listEndpoints(this.db) };
  }

  deleteWebhook(id: string): Result<{ id: string; deleted: true }> {
    return deleteEndpoint(this.db, id);
  }

  deliveries(endpointId: string, count: number, cursor: string | null) {
    return listDeliveries(this.db, endpointId, count, cursor);
  }

  /** Sends a sample event to one endpoint now; the answer is the delivery after that attempt. */
  async testWebhook(id: string): Promise<Result<DeliveryView>> {
    const d = await sendTestDelivery(this.deps, this.env, id);
    if (!d)
      return {
        ok: false,
        status: 404,
        error: { code: "not_found", message: `no webhook ${JSON.stringify(id)}` },
      };
    if (d.status === "pending") this.wake();
    return { ok: true, value: deliveryView(d) };
  }

  redeliver(id: string): Result<DeliveryView> {
    const r = redeliver(this.db, this.deps.now(), id);
    if (r.ok) this.wake();
    return r;
  }

  // ------------------------------------------------------------ monitor and report

  monitorPass(): Result<MonitorPassResult> {
    const r = this.tx((tx) => runMonitorPass(tx, this.deps, this.env));
    this.wake();
    return r;
  }

  lastPass(): PassView | null {
    return lastPass(this.db);
  }

  report(since: number, until: number): Result<Report> {
    return { ok: true, value: buildReport(this.db, since, until) };
  }

  // ------------------------------------------------------------ phone actions

  /** The spec a link points at, for the confirm page. */
  actionTarget(
    specId: string,
  ): Result<{ id: string; title: string; status: string; used_at: string | null }> {
    return this.tx((tx) => {
      const s = getSpec(tx, specId);
      return { id: s.id, title: s.title, status: s.status, used_at: null };
    });
  }

  linkUsedAt(nonce: string): string | null {
    const used = this.db.select().from(actionLinks).where(eq(actionLinks.nonce, nonce)).get();
    return used ? iso(used.usedAt) : null;
  }

  /** The budget a budget link was sent for, for the confirm page. */
  budgetTarget(reachId: string): Result<BudgetLine & { raise_usd: number }> {
    return this.tx((tx) => budgetTarget(tx, this.deps.now(), fleetSettings(tx), reachId));
  }

  /** Performs a verified budget link ("raise", "resume") and burns its nonce in one transaction. */
  useBudgetLink(claims: ActionClaims & { action: BudgetAction }): Result<BudgetLine> {
    const r = this.tx((tx) => {
      this.burn(tx, claims);
      return useBudgetAction(tx, this.deps.now(), fleetSettings(tx), claims.runId, claims.action);
    });
    this.wake();
    return r;
  }

  /** Records a link as used; a link used before is refused. */
  private burn(tx: Db, claims: ActionClaims): void {
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
        usedAt: this.deps.now(),
      })
      .run();
  }

  /**
   * Performs a verified link's action and burns its nonce in one transaction: a refused
   * transition leaves the link unused, a used link never acts twice.
   */
  useActionLink(claims: ActionClaims, input: { grade?: string; note?: string } = {}): Result<SpecSummary> {
    const r = this.tx((tx) => {
      // Burnt first: a refused transition rolls the whole transaction back, the burn with it.
      this.burn(tx, claims);
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
      let summary: SpecSummary;
      if (claims.action === "approve")
        summary = approve(tx, this.deps, claims.specId, { grade: input.grade, note: input.note }, by);
      else if (claims.action === "decline")
        summary = decline(tx, this.deps, claims.specId, { note: input.note }, by);
      else if (claims.action === "retry") {
        const s = getSpec(tx, claims.specId);
        // A spec awaiting review is retried by declining it with a retry, as the API would.
        summary =
          s.status === "awaiting_review"
            ? decline(tx, this.deps, claims.specId, { retry: true, note: "retry requested from a phone" }, by)
            : retry(tx, this.deps, claims.specId);
      } else throw new ApiError(400, "invalid_request", `${claims.action} acts on a budget, not on a spec`);
      return summary;
    });
    this.wake();
    return r;
  }
}
