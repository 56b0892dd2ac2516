// Providers: slots and effective slots (negative feedback), the circuit breaker, rate-limit
// cooling and per-provider freeze.
import { providers, runs, specs } from "@mtor/schema/tables/fleet";
import {
  type ClaimReason,
  type FailureKind,
  PROVIDER_SIDE_FAILURES,
  type Price,
  type ProviderUpdate,
  type ProviderView,
  type RunOutcome,
  type RunState,
  type RunWindow,
} from "@mtor/schema/wire";
import { and, count, eq, inArray } from "drizzle-orm";
import { isoOrNull } from "../core/clock";
import type { Db } from "../core/db";
import { emit } from "../core/outbox";
import { DEFAULT_TIMINGS, type FleetTimings } from "../core/timings";
import { ApiError, notFound } from "../errors";
import { fleetSettings } from "./controls";
import { beginPeriod, endPeriod, endProviderPeriods } from "./history";
import { windowAt } from "./windows";

export type ProviderRow = typeof providers.$inferSelect;

export const DEFAULT_SLOTS = 2;
export const BREAKER_THRESHOLD = 3;
export const BREAKER_FIRST_COOLDOWN_MS = DEFAULT_TIMINGS.breakerCooldownBaseMs;
export const BREAKER_MAX_COOLDOWN_MS = DEFAULT_TIMINGS.breakerCooldownCapMs;
const RECENT_OUTCOMES = 10;
export const ACTIVE_RUN_STATUSES: RunState[] = ["leased", "running"];

/** Creates, with the defaults, every named provider the control plane does not know yet. */
export function ensureProviders(db: Db, names: readonly string[], now: number): void {
  for (const name of new Set(names)) {
    db.insert(providers)
      .values({ name, slots: DEFAULT_SLOTS, effectiveSlots: DEFAULT_SLOTS, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .run();
  }
}

export function getProvider(db: Db, name: string): ProviderRow | undefined {
  return db.select().from(providers).where(eq(providers.name, name)).get();
}

/** The breaker as it stands at `now`: an open breaker whose cooldown ended is half-open. */
export function breakerAt(p: ProviderRow, now: number): "closed" | "open" | "half_open" {
  if (p.breakerState === "open" && p.openUntil !== null && p.openUntil <= now) return "half_open";
  return p.breakerState as "closed" | "open" | "half_open";
}

/** Runs holding a slot (leased or running), per provider. */
export function slotsInUse(db: Db): Map<string, number> {
  const rows = db
    .select({ provider: runs.provider, n: count() })
    .from(runs)
    .where(inArray(runs.status, ACTIVE_RUN_STATUSES))
    .groupBy(runs.provider)
    .all();
  return new Map(rows.map((r) => [r.provider, r.n]));
}

/** Providers whose half-open trial run is still in flight. */
export function trialsInFlight(db: Db): Set<string> {
  const rows = db
    .select({ provider: runs.provider })
    .from(runs)
    .where(and(inArray(runs.status, ACTIVE_RUN_STATUSES), eq(runs.trial, true)))
    .all();
  return new Set(rows.map((r) => r.provider));
}

/** Why a provider cannot take one more run now, or null when it can. */
export function providerSkipReason(
  p: ProviderRow,
  now: number,
  inUse: number,
  trialInFlight: boolean,
): ClaimReason | null {
  if (!p.enabled) return "disabled";
  if (p.frozen) return "frozen";
  if (p.coolingUntil !== null && p.coolingUntil > now) return "cooling";
  const breaker = breakerAt(p, now);
  if (breaker === "open") return "breaker_open";
  if (breaker === "half_open" && trialInFlight) return "breaker_open";
  if (inUse >= p.effectiveSlots) return "no_slots";
  return null;
}

export interface RunEnd {
  outcome: RunOutcome;
  failureKind?: FailureKind;
  retryAfterS?: number;
  trial: boolean;
}

/**
 * Feeds a finished run back into its provider: effective slots, breaker, cooling, recent
 * outcomes. Emits provider.tripped in the same transaction when the breaker opens.
 */
export function recordRunEnd(tx: Db, now: number, name: string, t: FleetTimings, end: RunEnd): void {
  const p = getProvider(tx, name);
  if (!p) return;
  // Canceled runs and lost leases say nothing about the provider.
  if (end.failureKind === "canceled" || end.failureKind === "lost_lease") return;

  const next: Partial<ProviderRow> = { updatedAt: now };
  const label = end.failureKind ? `${end.outcome}:${end.failureKind}` : end.outcome;
  next.recentOutcomes = [label, ...p.recentOutcomes].slice(0, RECENT_OUTCOMES);

  // Negative feedback: two bad runs in a row halve the effective slots; a pass adds one back.
  // With slot feedback off the provider keeps its slots whatever happens.
  if (end.outcome === "passed") {
    next.badStreak = 0;
    next.effectiveSlots = Math.min(p.slots, p.effectiveSlots + 1);
  } else if (t.slotFeedback) {
    const streak = p.badStreak + 1;
    if (streak >= 2) {
      next.effectiveSlots = Math.max(1, Math.floor(p.effectiveSlots / 2));
      next.badStreak = 0;
    } else {
      next.badStreak = streak;
    }
  }

  const kind = end.failureKind;
  const cooling = kind === "rate_limited" && end.retryAfterS !== undefined;
  if (cooling) {
    next.coolingUntil = Math.max(p.coolingUntil ?? 0, now + end.retryAfterS! * 1000);
    beginPeriod(tx, "cooling", name, now, { until: next.coolingUntil });
  }
  const providerSide = kind !== undefined && PROVIDER_SIDE_FAILURES.includes(kind) && !cooling;
  const breaker = breakerAt(p, now);
  if (providerSide) {
    const failures = p.consecutiveFailures + 1;
    next.consecutiveFailures = failures;
    let cooldown: number | null = null;
    if (!t.breaker) {
      // With the breaker off a provider-side failure only counts.
    } else if (breaker === "half_open" && end.trial) {
      cooldown = Math.min(Math.max(p.cooldownMs * 2, t.breakerCooldownBaseMs), t.breakerCooldownCapMs);
    } else if (breaker === "closed" && failures >= BREAKER_THRESHOLD) {
      cooldown = t.breakerCooldownBaseMs;
    }
    if (cooldown !== null) {
      next.breakerState = "open";
      next.cooldownMs = cooldown;
      next.openUntil = now + cooldown;
      // A trip from half-open carries on the period the first trip began.
      beginPeriod(tx, "breaker", name, now);
      emit(tx, now, "provider.tripped", {
        provider: name,
        consecutive_failures: failures,
        failure_kind: kind,
        open_until: new Date(now + cooldown).toISOString(),
      });
    }
  } else if (!cooling) {
    Object.assign(next, providerAnswered(tx, p, now, end.trial));
  }
  tx.update(providers).set(next).where(eq(providers.name, name)).run();
}

/**
 * The provider answered a run: its failure streak ends, and a half-open breaker (or an open one,
 * when this run is its trial) closes. Returns the columns that change, empty when none does.
 */
function providerAnswered(tx: Db, p: ProviderRow, now: number, trial: boolean): Partial<ProviderRow> {
  const next: Partial<ProviderRow> = {};
  if (p.consecutiveFailures !== 0) next.consecutiveFailures = 0;
  const breaker = breakerAt(p, now);
  if (breaker === "half_open" || (breaker === "open" && trial)) {
    next.breakerState = "closed";
    next.openUntil = null;
    next.cooldownMs = 0;
    endPeriod(tx, "breaker", p.name, now);
  }
  return next;
}

/**
 * A run's preflight passed: the provider answered it, which is the success a half-open trial
 * waits for (the breaker counts provider-side failures, and the rest of the run is the task).
 * Closing the breaker now, not at the trial's verdict a whole task later, gives the provider's
 * other slots back while the trial works. Returns whether the provider's row changed.
 */
export function recordPreflightPassed(tx: Db, now: number, name: string, trial: boolean): boolean {
  const p = getProvider(tx, name);
  if (!p) return false;
  const next = providerAnswered(tx, p, now, trial);
  if (Object.keys(next).length === 0) return false;
  tx.update(providers)
    .set({ ...next, updatedAt: now })
    .where(eq(providers.name, name))
    .run();
  return true;
}

/**
 * The next moment (Fleet clock, ms) a provider may take work again without anyone acting: the
 * earliest end of a cooling or of an open breaker's cooldown; null when none is pending.
 */
export function nextProviderChange(db: Db, now: number): number | null {
  let next: number | null = null;
  for (const p of db.select().from(providers).all()) {
    for (const at of [p.coolingUntil, p.breakerState === "open" ? p.openUntil : null]) {
      if (at !== null && at > now && (next === null || at < next)) next = at;
    }
  }
  return next;
}

/** Moves breakers whose cooldown ended to half-open; returns how many moved. */
export function halfOpenBreakers(tx: Db, now: number): number {
  let moved = 0;
  for (const p of tx.select().from(providers).where(eq(providers.breakerState, "open")).all()) {
    if (p.openUntil !== null && p.openUntil <= now) {
      tx.update(providers)
        .set({ breakerState: "half_open", updatedAt: now })
        .where(eq(providers.name, p.name))
        .run();
      moved++;
    }
  }
  return moved;
}

export function providerView(
  p: ProviderRow,
  now: number,
  inUse: number,
  queued: number,
  controls?: { budget_usd?: number | null; price?: Price | null; window?: RunWindow | null },
): ProviderView {
  const breaker = breakerAt(p, now);
  return {
    name: p.name,
    slots: p.slots,
    effective_slots: p.effectiveSlots,
    in_use: inUse,
    enabled: p.enabled,
    harness: p.harness,
    model: p.model,
    breaker: {
      state: breaker,
      consecutive_failures: p.consecutiveFailures,
      open_until: breaker === "open" ? isoOrNull(p.openUntil) : null,
    },
    cooling: p.coolingUntil !== null && p.coolingUntil > now,
    cooling_until: p.coolingUntil !== null && p.coolingUntil > now ? isoOrNull(p.coolingUntil) : null,
    frozen: p.frozen,
    recent_outcomes: p.recentOutcomes,
    queued,
    budget_usd: controls?.budget_usd ?? null,
    price: controls?.price ?? null,
    window: controls?.window ? windowAt(controls.window, now) : null,
  };
}

export function listProviders(db: Db, now: number): ProviderView[] {
  const inUse = slotsInUse(db);
  const queuedRows = db
    .select({ provider: specs.provider, n: count() })
    .from(specs)
    .where(eq(specs.status, "queued"))
    .groupBy(specs.provider)
    .all();
  const queued = new Map(queuedRows.map((r) => [r.provider, r.n]));
  const controls = fleetSettings(db).providers;
  return db
    .select()
    .from(providers)
    .orderBy(providers.name)
    .all()
    .map((p) => providerView(p, now, inUse.get(p.name) ?? 0, queued.get(p.name) ?? 0, controls[p.name]));
}

export function oneProvider(db: Db, name: string, now: number): ProviderView {
  const view = listProviders(db, now).find((p) => p.name === name);
  if (!view) throw notFound("provider", name);
  return view;
}

/** PUT /v1/providers/:name: creates the provider or changes its settings. */
export function putProvider(tx: Db, name: string, update: ProviderUpdate, now: number): ProviderView {
  ensureProviders(tx, [name], now);
  const p = getProvider(tx, name)!;
  const next: Partial<ProviderRow> = { updatedAt: now };
  if (update.slots !== undefined) {
    next.slots = update.slots;
    // Raising the limit raises the effective slots by as much; throttling keeps its share.
    next.effectiveSlots = Math.max(1, Math.min(update.slots, p.effectiveSlots + (update.slots - p.slots)));
  }
  if (update.enabled !== undefined) next.enabled = update.enabled;
  if (update.harness !== undefined) next.harness = update.harness;
  if (update.model !== undefined) next.model = update.model;
  tx.update(providers).set(next).where(eq(providers.name, name)).run();
  return oneProvider(tx, name, now);
}

export function deleteProvider(tx: Db, name: string, now: number): void {
  if (!getProvider(tx, name)) throw notFound("provider", name);
  const inUse = slotsInUse(tx).get(name) ?? 0;
  if (inUse > 0) {
    throw new ApiError(
      409,
      "provider_busy",
      `provider ${name} has ${inUse} run(s) in flight; freeze it and wait`,
      {
        in_use: inUse,
      },
    );
  }
  tx.delete(providers).where(eq(providers.name, name)).run();
  endProviderPeriods(tx, name, now);
}

export function setProviderFrozen(tx: Db, name: string, frozen: boolean, now: number): ProviderView {
  if (!getProvider(tx, name)) throw notFound("provider", name);
  tx.update(providers).set({ frozen, updatedAt: now }).where(eq(providers.name, name)).run();
  if (frozen) beginPeriod(tx, "frozen", name, now);
  else endPeriod(tx, "frozen", name, now);
  return oneProvider(tx, name, now);
}
