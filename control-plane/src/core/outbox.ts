// Writes webhook events to the outbox, always inside the transaction of the change causing them.
import type { PayloadOf } from "@mtor/schema/events";
import { outbox } from "@mtor/schema/tables/outbox";
import type { WebhookEvent } from "@mtor/schema/wire";
import type { Db } from "./db";

/** Each event type takes only its own payload (schema/src/events.ts), checked at compile time. */
export function emit<T extends WebhookEvent>(tx: Db, now: number, type: T, payload: PayloadOf<T>): void {
  tx.insert(outbox).values({ type, payload, createdAt: now }).run();
}
