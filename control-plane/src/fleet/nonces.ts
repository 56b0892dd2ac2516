// The replay store for signed executor requests: a nonce is good once per keyid within 600 s.
// It is written in the transaction of the operation the request asks for, so a request whose
// nonce cannot be stored does nothing.
import { checkCreated, NONCE_TTL_S } from "@mtor/schema/signing";
import { nonces } from "@mtor/schema/tables/security";
import { lt } from "drizzle-orm";
import type { Db } from "../core/db";
import { ApiError } from "../errors";

/** What the Fleet needs of a signature the Worker verified. */
export interface Signer {
  keyId: string;
  nonce: string;
  /** Unix seconds. */
  created: number;
}

/**
 * Records the signer's nonce, refusing a replay. `checkAt` (unix seconds) is given where the
 * Worker left the time window to the Fleet's clock, as it does under a test clock.
 */
export function acceptSigner(tx: Db, signer: Signer, now: number, checkAt: number | null): void {
  if (checkAt !== null) {
    const stale = checkCreated(signer.created, checkAt);
    if (stale) throw new ApiError(401, stale.code, stale.message);
  }
  const inserted = tx
    .insert(nonces)
    .values({ keyId: signer.keyId, nonce: signer.nonce, seenAt: now })
    .onConflictDoNothing()
    .returning({ nonce: nonces.nonce })
    .all();
  if (inserted.length !== 1)
    throw new ApiError(401, "nonce_replayed", "this nonce was already used; sign every request afresh");
}

export function purgeNonces(tx: Db, now: number): void {
  tx.delete(nonces)
    .where(lt(nonces.seenAt, now - NONCE_TTL_S * 1000))
    .run();
}
