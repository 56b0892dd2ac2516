// The spend budget: what each run counts, tonight's spend against the fleet's and each provider's
// budget, and the hold that stops new claims once a budget is reached, until a raise, a resume
// or a new night lifts it. Everything runs inside the caller's transaction.
import { runs } from "@mtor/schema/tables/fleet";
import type { BudgetLine, BudgetView, FleetSettings, Price, RunWindow, Usage } from "@mtor/schema/wire";
import { and, eq, gte, isNotNull, sql } from "drizzle-orm";
import { iso, isoOrNull } from "../core/clock";
import type { Db } from "../core/db";
import { randomBase36 } from "../core/ids";
import { emit } from "../core/outbox";
import type { SpendLedger } from "../core/spend";
import { ApiError } from "../errors";
import { getSetting, putSetting } from "./settings";
import { nightOf } from "./windows";

export const DEFAULT_FALLBACK_RUN_USD = 1;
export const DEFAULT_RAISE_USD = 5;
const STATE_KEY = "budget_state";
const PERIODS_KEPT = 100;

export type CostSource = "reported" | "price" | "fallback";

/** How a hold ended: a phone or API action, or the spend fell under the budget (new night, settings). */
export type HoldEnd = "raise" | "resume" | "under_budget";

/** A time the budget held claims, for the night's timeline. */
export interface BudgetPeriod {
  /** null for the fleet's budget. */
  provider: string | null;
  from: number;
  /** null while it still holds. */
  to: number | null;
  ended_by: HoldEnd | null;
}

interface ScopeState {
  /** The reach in force: set when the spend reaches the budget, cleared when the hold lifts. */
  reach?: { id: string; at: number; raise_usd: number };
  raised_usd?: number;
  raised_until?: number;
  resumed_until?: number;
}

export interface BudgetState {
  fleet: ScopeState;
  providers: Record<string, ScopeState>;
  periods: BudgetPeriod[];
}

/** One budget that applies: the fleet's or a provider's, with the window its night follows. */
interface Scope {
  provider: string | null;
  budget: number;
  window: RunWindow | null;
}

// ---------------------------------------------------------------- what a run costs

const priced = (input: number, output: number, p: Price) =>
  (input * p.input_per_mtok + output * p.output_per_mtok) / 1e6;

const WEAKER: Record<CostSource, number> = { reported: 0, price: 1, fallback: 2 };
const weaker = (a: CostSource, b: CostSource): CostSource => (WEAKER[a] >= WEAKER[b] ? a : b);

/**
 * What a finished run counts against the budget: the cost its verdict reports; where that is
 * zero, its tokens at the provider's prices; where neither is known, the fallback price, never
 * nothing. The reviewer's tokens count the same way, at the reviewer provider's prices.
 */
export function runCost(
  usage: Usage | null | undefined,
  prices: { run: Price | null | undefined; review: Price | null | undefined },
  fallbackUsd: number,
): { usd: number; source: CostSource } {
  let usd: number;
  let source: CostSource;
  const tokens = (usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0);
  if (usage && usage.cost_usd > 0) {
    usd = usage.cost_usd;
    source = "reported";
  } else if (usage && tokens > 0 && prices.run) {
    usd = priced(usage.input_tokens, usage.output_tokens, prices.run);
    source = "price";
  } else {
    usd = fallbackUsd;
    source = "fallback";
  }
  const review = usage?.review;
  if (review) {
    if (review.cost_usd > 0) usd += review.cost_usd;
    else if (review.input_tokens + review.output_tokens > 0) {
      if (prices.review) {
        usd += priced(review.input_tokens, review.output_tokens, prices.review);
        source = weaker(source, "price");
      } else {
        usd += fallbackUsd;
        source = "fallback";
      }
    }
  }
  return { usd, source };
}

/**
 * Records what a finished run counts against the budget, from its verdict's usage, in the row
 * and in tonight's spend the Fleet keeps in memory.
 */
export function chargeRun(
  tx: Db,
  spend: SpendLedger,
  settings: FleetSettings,
  run: { id: string; provider: string },
  usage: Usage | null | undefined,
  reviewProvider: string | null | undefined,
): void {
  const cost = runCost(
    usage,
    {
      run: settings.providers[run.provider]?.price,
      review: reviewProvider ? settings.providers[reviewProvider]?.price : null,
    },
    settings.fallback_run_usd,
  );
  const before = tx
    .select({ usd: runs.costUsd, at: runs.finishedAt })
    .from(runs)
    .where(eq(runs.id, run.id))
    .get();
  tx.update(runs).set({ costUsd: cost.usd, costSource: cost.source }).where(eq(runs.id, run.id)).run();
  spend.charge(before?.at ?? null, run.provider, cost.usd - (before?.usd ?? 0));
}

// ---------------------------------------------------------------- tonight's spend

/**
 * What runs finished since `start` count, the fleet's or one provider's, summed in runs_spend_idx:
 * what the settings and the status show. A claim's hold reads the Fleet's SpendLedger instead.
 */
export function spendSince(db: Db, start: number, provider: string | null = null): number {
  const row = db
    .select({ usd: sql<number>`coalesce(sum(${runs.costUsd}), 0)` })
    .from(runs)
    // Served by runs_spend_idx, whose condition this repeats word for word.
    .where(
      and(
        isNotNull(runs.costUsd),
        gte(runs.finishedAt, start),
        provider === null ? undefined : eq(runs.provider, provider),
      ),
    )
    .get();
  return Number(row?.usd ?? 0);
}

function scopesOf(settings: FleetSettings): Scope[] {
  const out: Scope[] = [];
  if (settings.budget_usd) out.push({ provider: null, budget: settings.budget_usd, window: settings.window });
  for (const [provider, p] of Object.entries(settings.providers).sort(([a], [b]) => a.localeCompare(b))) {
    if (p.budget_usd) out.push({ provider, budget: p.budget_usd, window: p.window ?? settings.window });
  }
  return out;
}

export function readBudgetState(db: Db): BudgetState {
  const s = getSetting<Partial<BudgetState>>(db, STATE_KEY, {});
  return { fleet: s.fleet ?? {}, providers: s.providers ?? {}, periods: s.periods ?? [] };
}

export function writeBudgetState(db: Db, state: BudgetState): void {
  putSetting(db, STATE_KEY, state);
}

/** Where the hold reads and writes the budget state: the settings row, or a cached copy of it. */
export interface BudgetStateStore {
  budgetState(db: Db): BudgetState;
  putBudgetState(db: Db, state: BudgetState): void;
}

const stateRow: BudgetStateStore = { budgetState: readBudgetState, putBudgetState: writeBudgetState };

function stateOf(state: BudgetState, provider: string | null): ScopeState {
  if (provider === null) return state.fleet;
  state.providers[provider] ??= {};
  return state.providers[provider];
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

/** What runs that finished since `start` count: all of them, or one provider's. */
type Spent = (start: number, provider: string | null) => number;

const spentIn =
  (db: Db): Spent =>
  (start, provider) =>
    spendSince(db, start, provider);
const spentBy =
  (db: Db, ledger: SpendLedger): Spent =>
  (start, provider) =>
    ledger.spendSince(db, start, provider);

/** Where one budget stands at `now`. */
function lineOf(spent: Spent, scope: Scope, st: ScopeState, now: number): BudgetLine & { morning: number } {
  const night = nightOf(scope.window, now);
  const spend = spent(night.start, scope.provider);
  const raised = (st.raised_until ?? 0) > now ? (st.raised_usd ?? 0) : 0;
  const resumed = (st.resumed_until ?? 0) > now ? (st.resumed_until as number) : null;
  return {
    provider: scope.provider,
    budget_usd: scope.budget,
    raised_usd: raised,
    spend_usd: cents(spend),
    night_start: iso(night.start),
    holding: spend >= scope.budget + raised && resumed === null,
    resumed_until: isoOrNull(resumed),
    reached_at: isoOrNull(st.reach?.at ?? null),
    morning: night.morning,
  };
}

/** What a budget hold blocks: every claim (the fleet's budget), or runs on the named providers. */
export interface BudgetHold {
  fleet: boolean;
  providers: Set<string>;
}

const NO_HOLD: BudgetHold = { fleet: false, providers: new Set() };

/**
 * Where the budgets stand at `now`, and the reaches and lifts since last looked: a budget
 * reached writes its `budget.reached` event (once per reach) and a hold that lifted ends its
 * period. Tonight's spend comes from the Fleet's ledger, never a sum over runs; the state comes
 * from `store`, which on the claim path is the Fleet's cached copy, so a claim reads no row here.
 */
export function budgetHold(
  tx: Db,
  now: number,
  settings: FleetSettings,
  ledger: SpendLedger,
  store: BudgetStateStore = stateRow,
): BudgetHold {
  const scopes = scopesOf(settings);
  const state = store.budgetState(tx);
  const anyReach = !!state.fleet.reach || Object.values(state.providers).some((p) => p.reach);
  if (scopes.length === 0 && !anyReach) return NO_HOLD;
  let changed = false;
  const hold: BudgetHold = { fleet: false, providers: new Set() };
  const seen = new Set<string | null>();
  for (const scope of scopes) {
    seen.add(scope.provider);
    const st = stateOf(state, scope.provider);
    const line = lineOf(spentBy(tx, ledger), scope, st, now);
    if (line.holding) {
      if (scope.provider === null) hold.fleet = true;
      else hold.providers.add(scope.provider);
      if (!st.reach) {
        st.reach = { id: randomBase36(16), at: now, raise_usd: settings.raise_usd };
        state.periods = [
          ...state.periods,
          { provider: scope.provider, from: now, to: null, ended_by: null },
        ].slice(-PERIODS_KEPT);
        emit(tx, now, "budget.reached", {
          reach_id: st.reach.id,
          provider: scope.provider,
          budget_usd: scope.budget,
          raised_usd: line.raised_usd,
          spend_usd: line.spend_usd,
          night_start: line.night_start,
          morning: iso(line.morning),
          raise_usd: settings.raise_usd,
        });
        changed = true;
      }
    } else if (st.reach) {
      endHold(state, scope.provider, now, "under_budget");
      changed = true;
    }
  }
  // A budget removed while it held: its hold ends with it.
  for (const provider of [null, ...Object.keys(state.providers)]) {
    if (seen.has(provider) || !stateOf(state, provider).reach) continue;
    endHold(state, provider, now, "under_budget");
    changed = true;
  }
  if (changed) store.putBudgetState(tx, state);
  return hold;
}

function endHold(state: BudgetState, provider: string | null, now: number, how: HoldEnd): void {
  delete stateOf(state, provider).reach;
  const open = state.periods.findLast((p) => p.provider === provider && p.to === null);
  if (open) {
    open.to = now;
    open.ended_by = how;
  }
}

/** Tonight's spend against every budget, as the settings, the status and the dashboard show it. */
export function budgetView(db: Db, now: number, settings: FleetSettings): BudgetView {
  const state = readBudgetState(db);
  const lines = scopesOf(settings).map((scope) => {
    const { morning: _, ...line } = lineOf(spentIn(db), scope, stateOf(state, scope.provider), now);
    return line;
  });
  return {
    fleet: lines.find((l) => l.provider === null) ?? null,
    providers: lines.filter((l) => l.provider !== null),
    spend_usd: cents(spendSince(db, nightOf(settings.window, now).start)),
    fallback_run_usd: settings.fallback_run_usd,
    raise_usd: settings.raise_usd,
  };
}

/** The times budgets held claims that overlap [since, until], for the night's timeline. */
export function budgetPeriods(db: Db, since: number, until: number): BudgetPeriod[] {
  return readBudgetState(db).periods.filter((p) => p.from <= until && (p.to === null || p.to >= since));
}

// ---------------------------------------------------------------- phone actions

export type BudgetAction = "raise" | "resume";

function reachOf(state: BudgetState, reachId: string): { provider: string | null; st: ScopeState } {
  for (const provider of [null, ...Object.keys(state.providers)]) {
    const st = stateOf(state, provider);
    if (st.reach?.id === reachId) return { provider, st };
  }
  throw new ApiError(
    409,
    "link_stale",
    "this budget hold has already ended (raised, resumed, or a new night began); nothing to do",
    { reach_id: reachId },
  );
}

/** The budget a phone link was sent for, while its hold lasts: for the confirm page. */
export function budgetTarget(
  db: Db,
  now: number,
  settings: FleetSettings,
  reachId: string,
): BudgetLine & { raise_usd: number } {
  const state = readBudgetState(db);
  const { provider, st } = reachOf(state, reachId);
  const scope = scopesOf(settings).find((s) => s.provider === provider);
  if (!scope) throw new ApiError(409, "link_stale", "that budget has been removed; nothing to do");
  const { morning: _, ...line } = lineOf(spentIn(db), scope, st, now);
  return { ...line, raise_usd: st.reach?.raise_usd ?? settings.raise_usd };
}

/**
 * "Raise by $N" adds the raise to the budget until morning; "resume until morning" lets claims
 * through until then whatever the spend. Either ends the hold the link was sent for. A raise
 * that still leaves the spend over the budget holds again, with a new event.
 */
export function useBudgetAction(
  tx: Db,
  now: number,
  settings: FleetSettings,
  reachId: string,
  action: BudgetAction,
  ledger: SpendLedger,
): BudgetLine {
  const state = readBudgetState(tx);
  const { provider, st } = reachOf(state, reachId);
  const scope = scopesOf(settings).find((s) => s.provider === provider);
  if (!scope) throw new ApiError(409, "link_stale", "that budget has been removed; nothing to do");
  const morning = nightOf(scope.window, now).morning;
  if (action === "raise") {
    const kept = (st.raised_until ?? 0) > now ? (st.raised_usd ?? 0) : 0;
    st.raised_usd = kept + (st.reach?.raise_usd ?? settings.raise_usd);
    st.raised_until = Math.max(st.raised_until ?? 0, morning);
  } else {
    st.resumed_until = morning;
  }
  endHold(state, provider, now, action);
  writeBudgetState(tx, state);
  budgetHold(tx, now, settings, ledger);
  const { morning: _, ...line } = lineOf(
    spentBy(tx, ledger),
    scope,
    stateOf(readBudgetState(tx), provider),
    now,
  );
  return line;
}
