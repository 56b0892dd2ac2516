// Idempotency-Key for dispatch: scoped to the operator token's name, the first response is
// replayed for 24 h; another body under the same key is refused. The key is checked and
// recorded in the dispatch's own transaction, so a key is never seen half-done; an
// `in_flight` row is one a crashed older version left, stale after a minute.
import { idempotencyKeys } from "@mtor/schema/tables/security";
import { and, eq, lt } from "drizzle-orm";
import type { Db } from "../core/db";
import { ApiError } from "../errors";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** An in-flight record older than this belongs to a request that died; it no longer blocks. */
const IN_FLIGHT_STALE_MS = 60_000;

export interface IdempotencyRef {
  scope: string;
  key: string;
  requestHash: string;
}

/** A dispatch's answer: the new spec, or the first answer replayed under its Idempotency-Key. */
export interface DispatchOutcome {
  replayed: boolean;
  status: number;
  body: unknown;
}

export type IdempotencyStart = { replay: false } | { replay: true; status: number; body: unknown };

export function beginIdempotent(tx: Db, ref: IdempotencyRef, now: number): IdempotencyStart {
  const where = and(eq(idempotencyKeys.scope, ref.scope), eq(idempotencyKeys.key, ref.key));
  const row = tx.select().from(idempotencyKeys).where(where).get();
  const stale =
    row &&
    (row.createdAt < now - IDEMPOTENCY_TTL_MS ||
      (row.state === "in_flight" && row.createdAt < now - IN_FLIGHT_STALE_MS));
  if (row && !stale) {
    if (row.requestHash !== ref.requestHash) {
      throw new ApiError(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request; use a new key for a new request",
      );
    }
    if (row.state === "in_flight") {
      throw new ApiError(
        409,
        "idempotency_in_flight",
        "a request with this Idempotency-Key is still in progress",
      );
    }
    return { replay: true, status: row.responseStatus ?? 200, body: row.responseBody };
  }
  if (row) tx.delete(idempotencyKeys).where(where).run();
  tx.insert(idempotencyKeys)
    .values({
      scope: ref.scope,
      key: ref.key,
      requestHash: ref.requestHash,
      state: "in_flight",
      createdAt: now,
    })
    .run();
  return { replay: false };
}

export function finishIdempotent(tx: Db, ref: IdempotencyRef, status: number, body: unknown): void {
  tx.update(idempotencyKeys)
    .set({ state: "done", responseStatus: status, responseBody: body })
    .where(and(eq(idempotencyKeys.scope, ref.scope), eq(idempotencyKeys.key, ref.key)))
    .run();
}

export function purgeIdempotency(tx: Db, now: number): void {
  tx.delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS))
    .run();
}
