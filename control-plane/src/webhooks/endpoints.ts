// The webhook endpoints API's data side: create (secret shown once), list, delete, the delivery
// log and redelivery. Called by the Fleet; results travel as values over RPC.
import { webhookDeliveries, webhookEndpoints } from "@mtor/schema/tables/webhooks";
import type { WebhookEvent, WebhookFormat } from "@mtor/schema/wire";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { iso, isoOrNull } from "../core/clock";
import type { Db } from "../core/db";
import { randomBase36 } from "../core/ids";
import type { Result } from "../errors";
import { checkWebhookUrl } from "./guard";

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  format: string;
  enabled: boolean;
  disabled_reason: string | null;
  links_base: string;
  created_at: string;
}

export interface DeliveryView {
  id: string;
  endpoint_id: string;
  event: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  log: { at: string; status: number | null; error: string | null; duration_ms: number }[];
}

/** An endpoint as the API creates it (the Worker adds who and the links origin). */
export interface WebhookCreateInput {
  url: string;
  events: WebhookEvent[];
  format: WebhookFormat;
  secret?: string;
  links_base: string;
  created_by: string | null;
}

export interface EndpointInput {
  url: string;
  events: WebhookEvent[];
  format: WebhookFormat;
  secret?: string;
  linksBase: string;
  createdBy: string | null;
}

const err = <T>(status: 404 | 409 | 400, code: string, message: string): Result<T> => ({
  ok: false,
  status,
  error: { code, message },
});

export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `whsec_${btoa(bin)}`;
}

type EndpointRow = typeof webhookEndpoints.$inferSelect;
const endpointView = (r: EndpointRow): EndpointView => ({
  id: r.id,
  url: r.url,
  events: r.events,
  format: r.format,
  enabled: r.enabled,
  disabled_reason: r.disabledReason,
  links_base: r.linksBase,
  created_at: iso(r.createdAt),
});

type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export const deliveryView = (r: DeliveryRow): DeliveryView => ({
  id: r.id,
  endpoint_id: r.endpointId,
  event: r.event,
  status: r.status,
  attempts: r.attempts,
  next_attempt_at: isoOrNull(r.nextAttemptAt),
  last_status: r.lastStatus,
  last_error: r.lastError,
  created_at: iso(r.createdAt),
  delivered_at: isoOrNull(r.deliveredAt),
  log: r.log.map((a) => ({ ...a, at: iso(a.at) })),
});

export function createEndpoint(
  db: Db,
  now: number,
  input: EndpointInput,
  allowPrivate: boolean,
): Result<EndpointView & { secret: string }> {
  const check = checkWebhookUrl(input.url, allowPrivate);
  if (!check.ok) return err(400, "invalid_webhook_url", `webhook url refused: ${check.reason}`);
  if (input.secret !== undefined) {
    try {
      new Webhook(input.secret);
    } catch {
      return err(
        400,
        "invalid_secret",
        "secret must be whsec_ followed by valid base64 (or leave it out to get one)",
      );
    }
  }
  const row: EndpointRow = {
    id: `wh_${randomBase36(10)}`,
    url: check.url.toString(),
    secret: input.secret ?? newSecret(),
    events: [...new Set(input.events)],
    format: input.format,
    linksBase: input.linksBase.replace(/\/+$/, ""),
    enabled: true,
    disabledReason: null,
    createdBy: input.createdBy,
    createdAt: now,
  };
  db.insert(webhookEndpoints).values(row).run();
  return { ok: true, value: { ...endpointView(row), secret: row.secret } };
}

export function listEndpoints(db: Db): EndpointView[] {
  return db.select().from(webhookEndpoints).orderBy(webhookEndpoints.createdAt).all().map(endpointView);
}

export function deleteEndpoint(db: Db, id: string): Result<{ id: string; deleted: true }> {
  return db.transaction((tx) => {
    const found = tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, id))
      .get();
    if (!found) return err(404, "not_found", `no webhook ${JSON.stringify(id)}`);
    tx.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id)).run();
    tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).run();
    return { ok: true, value: { id, deleted: true as const } };
  });
}

/** The delivery log of one endpoint, newest first, with a cursor (`created_at:id` of the last row). */
export function listDeliveries(
  db: Db,
  endpointId: string,
  count: number,
  cursor: string | null,
): Result<{ deliveries: DeliveryView[]; next_cursor: string | null }> {
  const found = db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.id, endpointId))
    .get();
  if (!found) return err(404, "not_found", `no webhook ${JSON.stringify(endpointId)}`);
  let after: SQL | undefined;
  if (cursor) {
    const [at, id] = cursor.split(":");
    if (!at || !id || !/^\d+$/.test(at))
      return err(400, "invalid_cursor", "cursor must be a next_cursor from a previous page");
    after = or(
      lt(webhookDeliveries.createdAt, Number(at)),
      and(eq(webhookDeliveries.createdAt, Number(at)), lt(webhookDeliveries.id, id)),
    );
  }
  const rows = db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), after))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(count + 1)
    .all();
  const page = rows.slice(0, count);
  const last = page[page.length - 1];
  return {
    ok: true,
    value: {
      deliveries: page.map(deliveryView),
      next_cursor: rows.length > count && last ? `${last.createdAt}:${last.id}` : null,
    },
  };
}

/** Queues a finished delivery again with the same webhook-id and body and a fresh schedule. */
export function redeliver(db: Db, now: number, id: string): Result<DeliveryView> {
  return db.transaction((tx) => {
    const d = tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).get();
    if (!d) return err(404, "not_found", `no delivery ${JSON.stringify(id)}`);
    if (d.status === "pending") return err(409, "delivery_pending", "this delivery is still being retried");
    const ep = tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, d.endpointId)).get();
    if (!ep?.enabled) {
      return err(
        409,
        "endpoint_disabled",
        `the webhook is disabled (${ep?.disabledReason ?? "deleted"}); create it again`,
      );
    }
    tx.update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now, deliveredAt: null })
      .where(eq(webhookDeliveries.id, id))
      .run();
    const updated = tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).get()!;
    return { ok: true, value: deliveryView(updated) };
  });
}
