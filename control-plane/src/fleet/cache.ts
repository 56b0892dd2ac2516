// What every claim reads and little else changes, kept in the Fleet's memory: the fleet
// freeze, gate settings, provider rows, the night controls' settings row, the budget state row
// and the review backlog's hold. The Fleet clears it after any transaction that may have changed them (a
// settings write, a verdict, an approve, a decline, a phone action, a monitor pass), so it never
// answers from a stale row; claims themselves move no spec in or out of review.
import type { GateSettings } from "@mtor/schema/gates";
import type { FleetSettings } from "@mtor/schema/wire";
import type { Db } from "../core/db";
import { type BudgetState, type BudgetStateStore, readBudgetState, writeBudgetState } from "./budget";
import { fleetSettings, type ReviewHold, reviewHold } from "./controls";
import { ensureProviders, getProvider, type ProviderRow } from "./providers";
import { gateSettings, isFrozen } from "./settings";

export class FleetCache implements BudgetStateStore {
  private frozen: boolean | undefined;
  private gates: GateSettings | undefined;
  private readonly providers = new Map<string, ProviderRow>();
  private settings: FleetSettings | undefined;
  private review: ReviewHold | undefined;
  private budget: BudgetState | undefined;

  /** The night controls' settings row (backlog limits, windows, budgets, prices). */
  fleetSettings(db: Db): FleetSettings {
    this.settings ??= fleetSettings(db);
    return this.settings;
  }

  /** Whether the review backlog holds every claim, or which repos. */
  reviewHold(db: Db): ReviewHold {
    this.review ??= reviewHold(db, this.fleetSettings(db));
    return this.review;
  }

  /** The budgets' reaches, raises and hold periods: a copy, to change and put back. */
  budgetState(db: Db): BudgetState {
    this.budget ??= readBudgetState(db);
    return structuredClone(this.budget);
  }

  /** Writes the budget state row; the claim that changed it keeps the cache in step. */
  putBudgetState(db: Db, state: BudgetState): void {
    writeBudgetState(db, state);
    this.budget = structuredClone(state);
  }

  isFrozen(db: Db): boolean {
    this.frozen ??= isFrozen(db);
    return this.frozen;
  }

  gateSettings(db: Db): GateSettings {
    this.gates ??= gateSettings(db);
    return this.gates;
  }

  provider(db: Db, name: string): ProviderRow | undefined {
    const cached = this.providers.get(name);
    if (cached) return cached;
    const row = getProvider(db, name);
    if (row) this.providers.set(name, row);
    return row;
  }

  /** Creates the providers an executor advertises that the cache does not know yet. */
  ensureProviders(db: Db, names: readonly string[], now: number): void {
    const unknown = names.filter((n) => !this.providers.has(n));
    if (unknown.length > 0) ensureProviders(db, unknown, now);
  }

  clear(): void {
    this.frozen = undefined;
    this.gates = undefined;
    this.settings = undefined;
    this.review = undefined;
    this.budget = undefined;
    this.providers.clear();
  }
}
