// The event outbox: one row per event, written in the same transaction as the change causing it.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { WebhookEventPayload } from "../events";
import { WEBHOOK_EVENTS } from "../wire";

export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** A WebhookEvent: spec.verdict, spec.failed, spec.dead, spec.stuck, provider.tripped, … */
    type: text("type", { enum: WEBHOOK_EVENTS }).notNull(),
    /** That type's payload (schema/src/events.ts); `emit` is the only writer. */
    payload: text("payload", { mode: "json" }).$type<WebhookEventPayload["payload"]>().notNull(),
    createdAt: integer("created_at").notNull(),
    /** Set once the webhook deliveries for this event have been fanned out. */
    processedAt: integer("processed_at"),
  },
  (t) => [index("outbox_pending_idx").on(t.processedAt, t.id)],
);
