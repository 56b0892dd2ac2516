// The dispatch rule of design §4: which queued specs a claiming executor gets, leased under
// fencing tokens. Runs synchronously inside one transaction so no slot is ever over-committed.
import { formatDuration } from "@mtor/schema/spec";
import { runs, specs } from "@mtor/schema/tables/fleet";
import type { ClaimedRun, ClaimReason, ClaimRequest, ClaimResponse } from "@mtor/schema/wire";
import { and, asc, desc, eq, inArray, isNotNull, ne, sql } from "drizzle-orm";
import { iso } from "./clock";
import type { Db, Deps } from "./db";
import { executorSkipReason, upsertExecutor } from "./executors";
import { newLeaseToken, newRunId } from "./ids";
import { LEASE_TTL_S } from "./leases";
import {
  breakerAt,
  ensureProviders,
  getProvider,
  type ProviderRow,
  providerSkipReason,
  slotsInUse,
  trialsInFlight,
} from "./providers";
import { gateSettings, isFrozen } from "./settings";
import type { SpecRow } from "./views";

/** How many queued specs one claim looks at, at most. */
const SCAN_LIMIT = 500;
const RECENT_PATCH_IDS = 50;

export function claimRuns(tx: Db, deps: Deps, req: ClaimRequest, keyId: string | null): ClaimResponse {
  const now = deps.now();
  const exec = upsertExecutor(tx, req.executor, keyId, now);
  ensureProviders(tx, req.executor.providers, now);

  const executorReason = executorSkipReason(exec);
  if (executorReason) return { runs: [], reason: executorReason };
  if (isFrozen(tx)) return { runs: [], reason: "frozen" };
  const want = Math.min(req.free, req.executor.capacity);
  if (want <= 0) return { runs: [], reason: "no_slots" };

  const queued = tx
    .select()
    .from(specs)
    .where(eq(specs.status, "queued"))
    .orderBy(desc(specs.priority), asc(specs.createdAt), asc(sql`rowid`))
    .limit(SCAN_LIMIT)
    .all();
  if (queued.length === 0) return { runs: [], reason: "empty" };

  const served = { repos: new Set(req.executor.repos), providers: req.executor.providers };
  const inUse = slotsInUse(tx);
  const trials = trialsInFlight(tx);
  const providerCache = new Map<string, ProviderRow | undefined>();
  const provider = (name: string) => {
    if (!providerCache.has(name)) providerCache.set(name, getProvider(tx, name));
    return providerCache.get(name);
  };
  const approved = approvedAmong(
    tx,
    queued.flatMap((s) => s.spec.after),
  );
  const gates = gateSettings(tx);

  const claimed: ClaimedRun[] = [];
  // The reason names why the first spec this executor could serve was skipped. Specs for
  // other repos or providers are not this executor's work: with only those queued, its queue
  // is `empty` (design §5.2), so a client that knows only the five reasons understands it.
  let firstReason: ClaimReason | null = null;
  for (const s of queued) {
    if (claimed.length >= want) break;
    const pick = pickProvider(s);
    if ("reason" in pick) {
      if (pick.reason !== "not_served") firstReason ??= pick.reason;
      continue;
    }
    claimed.push(lease(s, pick.provider));
  }
  if (claimed.length > 0) return { runs: claimed };
  return { runs: [], reason: firstReason ?? "empty" };

  function pickProvider(s: SpecRow): { provider: ProviderRow } | { reason: ClaimReason } {
    if (!served.repos.has(s.repo)) return { reason: "not_served" };
    if (s.spec.after.some((id) => !approved.has(id))) return { reason: "blocked" };
    const candidates =
      s.provider === "any" ? served.providers : served.providers.filter((p) => p === s.provider);
    if (candidates.length === 0) return { reason: "not_served" };
    let reason: ClaimReason | null = null;
    for (const name of candidates) {
      const p = provider(name);
      if (!p) continue;
      const skip = providerSkipReason(p, now, inUse.get(name) ?? 0, trials.has(name));
      if (skip === null) return { provider: p };
      reason ??= skip;
    }
    return { reason: reason ?? "not_served" };
  }

  function lease(s: SpecRow, p: ProviderRow): ClaimedRun {
    const runId = newRunId();
    const token = newLeaseToken();
    const attempt = s.attempt + 1;
    const expiresAt = now + LEASE_TTL_S * 1000;
    const trial = breakerAt(p, now) === "half_open";
    const model = s.spec.model ?? p.model;
    const harness = s.spec.harness ?? p.harness;
    tx.insert(runs)
      .values({
        id: runId,
        specId: s.id,
        attempt,
        executorId: exec.id,
        provider: p.name,
        model,
        harness,
        status: "leased",
        phase: "claimed",
        leaseToken: token,
        leaseExpiresAt: expiresAt,
        trial,
        gates,
        feedback: s.feedback,
        claimedAt: now,
      })
      .run();
    tx.update(specs)
      .set({ status: "leased", attempt, currentRunId: runId, nextAttemptAt: null, updatedAt: now })
      .where(eq(specs.id, s.id))
      .run();
    inUse.set(p.name, (inUse.get(p.name) ?? 0) + 1);
    if (trial) trials.add(p.name);
    return {
      run_id: runId,
      spec_id: s.id,
      attempt,
      lease: { token, ttl_s: LEASE_TTL_S, expires_at: iso(expiresAt) },
      provider: { name: p.name, model, harness },
      spec: { ...s.spec, provider: p.name, timeout: formatDuration(s.spec.timeout_s) },
      gates,
      feedback: s.feedback,
      recent_patch_ids: recentPatchIds(tx, s.id),
    };
  }
}

function approvedAmong(db: Db, ids: string[]): Set<string> {
  if (ids.length === 0) return new Set();
  const rows = db
    .select({ id: specs.id })
    .from(specs)
    .where(and(inArray(specs.id, [...new Set(ids)]), eq(specs.status, "approved")))
    .all();
  return new Set(rows.map((r) => r.id));
}

/** Patch ids of other specs' recent verdicts, for the executor's duplicate gate. */
function recentPatchIds(db: Db, specId: string): { spec_id: string; patch_id: string }[] {
  return db
    .select({ spec_id: runs.specId, patch_id: runs.patchId })
    .from(runs)
    .where(and(isNotNull(runs.patchId), ne(runs.specId, specId)))
    .orderBy(desc(runs.finishedAt))
    .limit(RECENT_PATCH_IDS)
    .all()
    .map((r) => ({ spec_id: r.spec_id, patch_id: r.patch_id as string }));
}
