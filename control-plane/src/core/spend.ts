// Tonight's run costs, held in the Fleet's memory so a claim checks the budgets without summing
// the runs table. It loads the costs from runs_spend_idx when first asked (a cold start) or when
// asked about an earlier time than it holds (a night that began before them); from then on each
// charge is added by the transaction that writes it. The Fleet forgets it whenever a transaction
// rolls back, so it never holds a charge that was undone.
import { runs } from "@mtor/schema/tables/fleet";
import { and, gte, isNotNull } from "drizzle-orm";
import type { Db } from "./db";

/** A night, with a window or rolling, starts less than a day before now: older costs are let go. */
const KEEP_MS = 36 * 3600_000;

interface Charge {
  /** When the run finished (Fleet clock, ms). */
  at: number;
  provider: string;
  usd: number;
}

export class SpendLedger {
  /** Every cost of a run that finished at or after this is held; null: nothing is loaded. */
  private from: number | null = null;
  private charges: Charge[] = [];

  /** What runs that finished since `start` count: all of them, or one provider's. */
  spendSince(db: Db, start: number, provider: string | null = null): number {
    if (this.from === null || start < this.from) this.load(db, start);
    let usd = 0;
    for (const c of this.charges) {
      if (c.at >= start && (provider === null || c.provider === provider)) usd += c.usd;
    }
    return usd;
  }

  /**
   * A run's cost changed by `usd` (what it counts now less what it counted before) in the
   * transaction under way; `at` is when it finished.
   */
  charge(at: number | null, provider: string, usd: number): void {
    if (this.from === null || at === null || at < this.from || usd === 0) return;
    this.charges.push({ at, provider, usd });
    const cutoff = at - KEEP_MS;
    if (this.charges[0].at < cutoff) {
      this.charges = this.charges.filter((c) => c.at >= cutoff);
      this.from = Math.max(this.from, cutoff);
    }
  }

  /** Drops everything; the next question loads from the table again. */
  forget(): void {
    this.from = null;
    this.charges = [];
  }

  private load(db: Db, start: number): void {
    // Served by runs_spend_idx (finished_at, provider, cost_usd), whose condition this repeats.
    const rows = db
      .select({ at: runs.finishedAt, provider: runs.provider, usd: runs.costUsd })
      .from(runs)
      .where(and(isNotNull(runs.costUsd), gte(runs.finishedAt, start)))
      .all();
    this.charges = rows.map((r) => ({ at: r.at ?? start, provider: r.provider, usd: r.usd ?? 0 }));
    this.from = start;
  }
}
