// The event outbox: one row per event, written in the same transaction as the change causing it.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** A WebhookEvent: spec.verdict, spec.failed, spec.dead, spec.stuck, provider.tripped, … */
    type: text("type").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at").notNull(),
    /** Set once the webhook deliveries for this event have been fanned out. */
    processedAt: integer("processed_at"),
  },
  (t) => [index("outbox_pending_idx").on(t.processedAt, t.id)],
);
