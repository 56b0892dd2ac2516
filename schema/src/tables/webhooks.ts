// The Fleet's tables for notifications: webhook endpoints and their deliveries, used phone-action
// links, monitor pass records and the monitor's own bookkeeping. Times are unix milliseconds.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { WEBHOOK_FORMATS } from "../wire";

/** pending | delivered | failed (retries exhausted) | disabled (endpoint gone or disabled) */
export const DELIVERY_STATUSES = ["pending", "delivered", "failed", "disabled"] as const;

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    /** `whsec_` + base64 key; shown once at creation. */
    secret: text("secret").notNull(),
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    format: text("format", { enum: WEBHOOK_FORMATS }).notNull(),
    /** Origin that phone-action links in this endpoint's messages point at. */
    linksBase: text("links_base").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_endpoints_enabled_idx").on(t.enabled)],
);

export interface DeliveryAttempt {
  at: number;
  /** HTTP status, or null when no response came (timeout, refused address, network error). */
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    /** The `webhook-id` header: the same on every attempt and redelivery. */
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id").notNull(),
    outboxId: integer("outbox_id").notNull(),
    event: text("event").notNull(),
    /** The request body, rendered once so every attempt sends the same bytes. */
    body: text("body").notNull(),
    contentType: text("content_type").notNull(),
    /** Where the body is posted (ntfy's JSON API posts to the server root, not the topic). */
    targetUrl: text("target_url").notNull(),
    /** pending | delivered | failed (retries exhausted) | disabled (endpoint gone or disabled) */
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    log: text("log", { mode: "json" }).$type<DeliveryAttempt[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [
    // The alarm: pending deliveries by due time.
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    // The delivery log of one endpoint, newest first.
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
  ],
);

/** Phone-action links that have been used: a link's nonce may appear here once. */
export const actionLinks = sqliteTable(
  "action_links",
  {
    nonce: text("nonce").primaryKey(),
    specId: text("spec_id").notNull(),
    action: text("action").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at").notNull(),
  },
  (t) => [index("action_links_expires_idx").on(t.expiresAt)],
);

export interface MonitorChanges {
  leases_expired: number;
  timed_out: number;
  requeued: number;
  breakers_moved: number;
  slots_recomputed: number;
  runaway_flagged: number;
  stuck_flagged: number;
  digests: number;
  reports: number;
}

export const monitorPasses = sqliteTable(
  "monitor_passes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    startedAt: integer("started_at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    changes: text("changes", { mode: "json" }).$type<MonitorChanges>().notNull(),
    /** Ids touched, per kind, for the digest and for people reading the status. */
    details: text("details", { mode: "json" }).$type<Record<string, string[]>>().notNull(),
    /** True when the pass hit its per-pass limit and left work for the next one. */
    truncated: integer("truncated", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [index("monitor_passes_started_idx").on(t.startedAt)],
);

/** A spec the monitor has flagged (runaway chain, stuck): one row per spec and kind, so once. */
export const monitorFlags = sqliteTable(
  "monitor_flags",
  {
    specId: text("spec_id").notNull(),
    kind: text("kind", { enum: ["runaway", "stuck"] }).notNull(),
    detail: text("detail").notNull(),
    /** The attempt the flag was raised for; a retry that ends the same way raises it again. */
    attempt: integer("attempt").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.specId, t.kind] })],
);
