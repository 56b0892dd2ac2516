// The monitor's small key/value bookkeeping: watermarks, the last digest and the last report.
import { monitorState } from "@mtor/schema/tables/webhooks";
import { eq } from "drizzle-orm";
import type { Db } from "../core/db";

export function readState<T>(db: Db, key: string): T | undefined {
  const row = db.select().from(monitorState).where(eq(monitorState.key, key)).get();
  return row ? (row.value as T) : undefined;
}

export function writeState(db: Db, key: string, value: unknown): void {
  db.insert(monitorState)
    .values({ key, value })
    .onConflictDoUpdate({ target: monitorState.key, set: { value } })
    .run();
}
