// The replay store for signed executor requests: a nonce is good once per keyid within 600 s.
import { NONCE_TTL_S } from "@mtor/schema/signing";
import { nonces } from "@mtor/schema/tables/security";
import { lt } from "drizzle-orm";
import type { Db } from "./db";

/** Records the nonce; false when it was already seen for this keyid. */
export function useNonce(tx: Db, keyId: string, nonce: string, now: number): boolean {
  const inserted = tx
    .insert(nonces)
    .values({ keyId, nonce, seenAt: now })
    .onConflictDoNothing()
    .returning({ nonce: nonces.nonce })
    .all();
  return inserted.length === 1;
}

export function purgeNonces(tx: Db, now: number): void {
  tx.delete(nonces)
    .where(lt(nonces.seenAt, now - NONCE_TTL_S * 1000))
    .run();
}
