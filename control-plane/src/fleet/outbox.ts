// Writes webhook events to the outbox, always inside the transaction of the change causing them.
import { outbox } from "@mtor/schema/tables/outbox";
import type { WebhookEvent } from "@mtor/schema/wire";
import type { Db } from "./db";

export function emit(tx: Db, now: number, type: WebhookEvent, payload: Record<string, unknown>): void {
  tx.insert(outbox).values({ type, payload, createdAt: now }).run();
}
