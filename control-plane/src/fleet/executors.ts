// Executors: the row every claim refreshes, load sensing and drain.
import { executors, runs } from "@mtor/schema/tables/fleet";
import type { ClaimReason, ExecutorInfo, ExecutorView, Load } from "@mtor/schema/wire";
import { and, eq, inArray } from "drizzle-orm";
import { iso } from "../core/clock";
import type { Db } from "../core/db";
import { ApiError, notFound } from "../errors";

export const MAX_CPU = 1.5;
export const MIN_MEM_FREE = 0.1;

export type ExecutorRow = typeof executors.$inferSelect;

/**
 * Refuses a request signed with another key than the one the executor registered with, while
 * that key is still in EXECUTOR_KEYS; a retired key hands the id over to the signer's key.
 */
export function checkExecutorKey(
  row: Pick<ExecutorRow, "id" | "keyId"> | undefined,
  keyId: string,
  liveKeys: ReadonlySet<string>,
): void {
  if (!row?.keyId || row.keyId === keyId || !liveKeys.has(row.keyId)) return;
  throw new ApiError(
    403,
    "forbidden",
    `executor ${row.id} registered with key ${row.keyId}; a request signed with key ${keyId} cannot act as it`,
  );
}

/** Refuses a run's report from another key than its executor's. */
export function checkRunSigner(
  tx: Db,
  executorId: string,
  keyId: string,
  liveKeys: ReadonlySet<string>,
): void {
  const row = tx
    .select({ id: executors.id, keyId: executors.keyId })
    .from(executors)
    .where(eq(executors.id, executorId))
    .get();
  checkExecutorKey(row, keyId, liveKeys);
}

/**
 * Writes the executor's row from its claim, after checking the signer's key against `prior`,
 * the row as the claim found it (bootOf).
 */
export function upsertExecutor(
  tx: Db,
  info: ExecutorInfo,
  keyId: string,
  liveKeys: ReadonlySet<string>,
  now: number,
  prior: Pick<ExecutorRow, "id" | "keyId"> | undefined,
): ExecutorRow {
  checkExecutorKey(prior, keyId, liveKeys);
  const values = {
    host: info.host,
    version: info.version,
    arch: info.arch,
    capacity: info.capacity,
    providers: info.providers,
    repos: info.repos,
    load: info.load,
    keyId,
    lastSeenAt: now,
    boot: info.boot ?? null,
  };
  return tx
    .insert(executors)
    .values({ id: info.id, ...values })
    .onConflictDoUpdate({ target: executors.id, set: values })
    .returning()
    .get();
}

/**
 * The executor's key, its current boot and the boot a restart retired, or undefined for a new
 * executor.
 */
export function bootOf(
  db: Db,
  id: string,
): Pick<ExecutorRow, "id" | "keyId" | "boot" | "retiredBoot"> | undefined {
  return db
    .select({
      id: executors.id,
      keyId: executors.keyId,
      boot: executors.boot,
      retiredBoot: executors.retiredBoot,
    })
    .from(executors)
    .where(eq(executors.id, id))
    .get();
}

/** Records that the executor's process `boot` is gone: claims still waiting for it get nothing. */
export function retireBoot(tx: Db, id: string, boot: string): void {
  tx.update(executors).set({ retiredBoot: boot }).where(eq(executors.id, id)).run();
}

export function recordLoad(tx: Db, id: string, load: Load, now: number): void {
  tx.update(executors).set({ load, lastSeenAt: now }).where(eq(executors.id, id)).run();
}

/** Why this executor gets no new runs at all, or null. */
export function executorSkipReason(e: ExecutorRow): ClaimReason | null {
  if (e.draining) return "draining";
  if (e.load && (e.load.cpu > MAX_CPU || e.load.mem_free < MIN_MEM_FREE)) return "overloaded";
  return null;
}

export function listExecutors(db: Db): ExecutorView[] {
  const active = db
    .select({ id: runs.id, specId: runs.specId, phase: runs.phase, executorId: runs.executorId })
    .from(runs)
    .where(inArray(runs.status, ["leased", "running"]))
    .all();
  return db
    .select()
    .from(executors)
    .orderBy(executors.id)
    .all()
    .map((e) => ({
      id: e.id,
      host: e.host,
      version: e.version,
      arch: e.arch,
      capacity: e.capacity,
      providers: e.providers,
      repos: e.repos,
      load: e.load ?? null,
      draining: e.draining,
      last_seen_at: iso(e.lastSeenAt),
      runs: active
        .filter((r) => r.executorId === e.id)
        .map((r) => ({ run_id: r.id, spec_id: r.specId, phase: r.phase })),
    }));
}

export function setDraining(tx: Db, id: string, draining: boolean): ExecutorView {
  const row = tx.select().from(executors).where(eq(executors.id, id)).get();
  if (!row) throw notFound("executor", id);
  tx.update(executors).set({ draining }).where(eq(executors.id, id)).run();
  return listExecutors(tx).find((e) => e.id === id)!;
}

export function activeRunsOf(db: Db, executorId: string): number {
  return db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.executorId, executorId), inArray(runs.status, ["leased", "running"])))
    .all().length;
}
