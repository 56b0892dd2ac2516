// The dispatch rule: which queued specs a claiming executor gets, leased under
// fencing tokens. Runs synchronously inside one transaction so no slot is ever over-committed.
import type { GateSettings } from "@mtor/schema/gates";
import { formatDuration } from "@mtor/schema/spec";
import { runs, specs } from "@mtor/schema/tables/fleet";
import {
  type ClaimedRun,
  type ClaimReason,
  type ClaimRequest,
  type ClaimResponse,
  splitFeedback,
} from "@mtor/schema/wire";
import { and, desc, eq, inArray, isNotNull, ne, sql } from "drizzle-orm";
import { iso } from "../core/clock";
import type { Db, Deps } from "../core/db";
import { newLeaseToken, newRunId } from "../core/ids";
import { timingsOf } from "../core/timings";
import { budgetHold } from "./budget";
import type { FleetCache } from "./cache";
import { fitsWindows, windowHold } from "./controls";
import { bootOf, checkExecutorKey, executorSkipReason, retireBoot, upsertExecutor } from "./executors";
import { releaseBoot } from "./leases";
import { breakerAt, type ProviderRow, providerSkipReason, slotsInUse, trialsInFlight } from "./providers";
import type { SpecRow } from "./views";

const RECENT_PATCH_IDS = 50;
/** Queued specs read per repo and provider at a time; more pages are read only past blocked ones. */
const PAGE = 16;

/** The claim order: highest priority, then oldest, then first inserted. */
interface Head {
  id: string;
  priority: number;
  createdAt: number;
  seq: number;
}

const before = (a: Head, b: Head): boolean =>
  a.priority !== b.priority
    ? a.priority > b.priority
    : a.createdAt !== b.createdAt
      ? a.createdAt < b.createdAt
      : a.seq < b.seq;

/**
 * The queued specs of one repo and one provider field (a provider name or `any`), in claim
 * order, read through specs_claim_idx a page at a time: a claim touches a few index entries
 * per lane it serves, whatever sits in other lanes.
 */
class Lane {
  private rows: Head[] = [];
  private offset = 0;
  private done = false;

  constructor(
    private readonly tx: Db,
    readonly repo: string,
    readonly provider: string,
  ) {}

  head(): Head | undefined {
    if (this.rows.length === 0 && !this.done) this.fill();
    return this.rows[0];
  }

  pop(): void {
    this.rows.shift();
  }

  private fill(): void {
    const page = this.tx.all<Head>(sql`
      SELECT id, priority, created_at AS createdAt, rowid AS seq
      FROM ${specs}
      WHERE status = 'queued' AND repo = ${this.repo} AND provider = ${this.provider}
      ORDER BY priority DESC, created_at ASC, rowid ASC
      LIMIT ${PAGE} OFFSET ${this.offset}`);
    this.offset += page.length;
    this.done = page.length < PAGE;
    this.rows = page;
  }
}

export function claimRuns(
  tx: Db,
  deps: Deps,
  req: ClaimRequest,
  keyId: string,
  liveKeys: ReadonlySet<string>,
  cache: FleetCache,
): ClaimResponse {
  const now = deps.now();
  const { boot, previous_boot: previousBoot } = req.executor;
  const prior = bootOf(tx, req.executor.id);
  // A claim still waiting here for a process its restarted successor says is gone: nobody is
  // there to take a run (once the signer is known to be that executor).
  if (boot && boot === prior?.retiredBoot) {
    checkExecutorKey(prior, keyId, liveKeys);
    return { runs: [], reason: "draining" };
  }
  const exec = upsertExecutor(tx, req.executor, keyId, liveKeys, now, prior);
  if (boot && previousBoot && previousBoot !== boot && prior?.boot !== boot) {
    retireBoot(tx, exec.id, previousBoot);
    releaseBoot(tx, deps, exec.id, previousBoot, req.executor.resumed ?? []);
  }
  cache.ensureProviders(tx, req.executor.providers, now);

  const executorReason = executorSkipReason(exec);
  if (executorReason) return { runs: [], reason: executorReason };
  if (cache.isFrozen(tx)) return { runs: [], reason: "frozen" };
  const settings = cache.fleetSettings(tx);
  const reviewHeld = cache.reviewHold(tx);
  if (reviewHeld.fleet) return { runs: [], reason: "review_backlog" };
  const windows = windowHold(settings, now);
  if (windows.fleet && !windows.fleet.open) return { runs: [], reason: "outside_window" };
  // Runs in flight finish; a reached budget only stops new ones.
  const budget = budgetHold(tx, now, settings, deps.spend, cache);
  if (budget.fleet) return { runs: [], reason: "budget" };
  const want = Math.min(req.free, req.executor.capacity);
  if (want <= 0) return { runs: [], reason: "no_slots" };

  const served = [...new Set(req.executor.providers)];
  const inUse = slotsInUse(tx);
  const trials = trialsInFlight(tx);
  const providerRows = new Map<string, ProviderRow | undefined>(
    served.map((n) => [n, cache.provider(tx, n)]),
  );
  const skip = (name: string): ClaimReason | null => {
    const p = providerRows.get(name);
    if (!p) return "disabled";
    if (windows.providers.get(name)?.open === false) return "outside_window";
    if (budget.providers.has(name)) return "budget";
    return providerSkipReason(p, now, inUse.get(name) ?? 0, trials.has(name));
  };
  /** The provider a spec of this lane would run on now, or why none can take it. */
  const pickProvider = (lane: Lane): { provider: ProviderRow } | { reason: ClaimReason } => {
    const candidates = lane.provider === "any" ? served : [lane.provider];
    let reason: ClaimReason | null = null;
    for (const name of candidates) {
      const why = skip(name);
      if (why === null) return { provider: providerRows.get(name) as ProviderRow };
      reason ??= why;
    }
    return { reason: reason ?? "no_slots" };
  };

  const lanes: Lane[] = [];
  for (const repo of new Set(req.executor.repos)) {
    for (const provider of [...served, "any"]) lanes.push(new Lane(tx, repo, provider));
  }
  let gates: GateSettings | null = null;
  const claimed: ClaimedRun[] = [];
  // The reason names why the first spec (in claim order) this executor could serve was
  // skipped. Specs for other repos or providers are not this executor's work: with only those
  // queued, its queue is `empty`, so a client that knows only the five reasons
  // understands it.
  let first: { head: Head; reason: ClaimReason } | null = null;
  const skipped = (head: Head, reason: ClaimReason) => {
    if (!first || before(head, first.head)) first = { head, reason };
  };
  while (claimed.length < want) {
    // The next spec in claim order among lanes whose provider can take one now.
    let best: { lane: Lane; head: Head; provider: ProviderRow } | null = null;
    for (const lane of lanes) {
      const head = lane.head();
      if (!head) continue;
      if (reviewHeld.repos.has(lane.repo)) {
        skipped(head, "review_backlog");
        continue;
      }
      const pick = pickProvider(lane);
      if ("reason" in pick) {
        skipped(head, pick.reason);
        continue;
      }
      if (!best || before(head, best.head)) best = { lane, head, provider: pick.provider };
    }
    if (!best) break;
    best.lane.pop();
    // Only the chosen spec's row is read: a page of heads costs index entries and ids, never
    // the spec texts.
    const row = tx.select().from(specs).where(eq(specs.id, best.head.id)).get();
    if (!row) continue;
    const after = row.spec.after ?? [];
    if (after.length > 0 && !afterApproved(tx, after)) {
      skipped(best.head, "blocked");
      continue;
    }
    // A window set to fit starts no run whose timeout would outlast it.
    if (!fitsWindows([windows.fleet, windows.providers.get(best.provider.name)], now, row.spec.timeout_s)) {
      skipped(best.head, "outside_window");
      continue;
    }
    gates ??= cache.gateSettings(tx);
    claimed.push(lease(row, best.provider, gates));
  }
  if (claimed.length > 0) return { runs: claimed };
  return { runs: [], reason: (first as { reason: ClaimReason } | null)?.reason ?? "empty" };

  function lease(s: SpecRow, p: ProviderRow, gates: GateSettings): ClaimedRun {
    const runId = newRunId();
    const token = newLeaseToken();
    const attempt = s.attempt + 1;
    // Provisional until the executor's first heartbeat renews it for the full TTL.
    const expiresAt = now + timingsOf(deps).pickupS * 1000;
    const trial = breakerAt(p, now) === "half_open";
    const model = s.spec.model ?? p.model;
    const harness = s.spec.harness ?? p.harness;
    tx.insert(runs)
      .values({
        id: runId,
        specId: s.id,
        attempt,
        executorId: exec.id,
        executorBoot: boot ?? null,
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
      lease: { token, ttl_s: timingsOf(deps).leaseTtlS, expires_at: iso(expiresAt) },
      provider: { name: p.name, model, harness },
      spec: { ...s.spec, provider: p.name, timeout: formatDuration(s.spec.timeout_s) },
      gates,
      ...splitFeedback(s.feedback),
      recent_patch_ids: recentPatchIds(tx, s.id),
    };
  }
}

/** Whether every spec a spec waits for is approved. */
function afterApproved(db: Db, ids: string[]): boolean {
  if (ids.length === 0) return true;
  const unique = [...new Set(ids)];
  const rows = db
    .select({ id: specs.id })
    .from(specs)
    .where(and(inArray(specs.id, unique), eq(specs.status, "approved")))
    .all();
  return rows.length === unique.length;
}

/** Patch ids of other specs' recent verdicts, for the executor's duplicate gate. */
function recentPatchIds(db: Db, specId: string): { spec_id: string; patch_id: string }[] {
  return (
    db
      .select({ spec_id: runs.specId, patch_id: runs.patchId })
      .from(runs)
      // Served by runs_patch_idx, whose condition this repeats word for word.
      .where(and(isNotNull(runs.patchId), ne(runs.specId, specId)))
      .orderBy(desc(runs.finishedAt))
      .limit(RECENT_PATCH_IDS)
      .all()
      .map((r) => ({ spec_id: r.spec_id, patch_id: r.patch_id as string }))
  );
}
