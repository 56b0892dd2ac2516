// Replay protection for signed executor requests and Idempotency-Key records for dispatch.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const nonces = sqliteTable(
  "nonces",
  {
    keyId: text("key_id").notNull(),
    nonce: text("nonce").notNull(),
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.nonce] }), index("nonces_seen_idx").on(t.seenAt)],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    /** The operator token's name: keys are scoped to it. */
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    /** in_flight | done */
    state: text("state").notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body", { mode: "json" }),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_created_idx").on(t.createdAt)],
);
