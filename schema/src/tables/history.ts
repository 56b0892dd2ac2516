// The fleet's history for the report's timeline: periods during which a provider (or the whole
// fleet) could not take work, and the review backlog over time. Written only when a state
// changes, pruned by the monitor after two weeks.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** What held work back during a period. */
export const PERIOD_KINDS = ["breaker", "cooling", "frozen", "window", "budget"] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export const fleetPeriods = sqliteTable(
  "fleet_periods",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind").$type<PeriodKind>().notNull(),
    /** The provider it held; null when it held the whole fleet. */
    provider: text("provider"),
    startedAt: integer("started_at").notNull(),
    /** Null while it lasts; a cooling period knows its end when it begins. */
    endedAt: integer("ended_at"),
    /** A word on it, e.g. the window "22:00-06:00 Europe/Berlin". */
    detail: text("detail"),
  },
  (t) => [
    // Finding the period a change ends or extends: the few of one kind and provider.
    index("fleet_periods_kind_idx").on(t.kind, t.provider, t.endedAt),
    // The report's time range and the monitor's pruning.
    index("fleet_periods_started_idx").on(t.startedAt),
    index("fleet_periods_ended_idx").on(t.endedAt),
  ],
);

/**
 * How many specs awaited review, sampled whenever a spec entered or left awaiting_review. The
 * rows are written by a trigger on specs (migration 0008), so every path that moves a spec in or
 * out of review is counted, and nothing else writes here.
 */
export const backlogSamples = sqliteTable(
  "backlog_samples",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    awaitingReview: integer("awaiting_review").notNull(),
  },
  (t) => [index("backlog_samples_at_idx").on(t.at)],
);

/** Both history tables, for the pruning pass: older than this they are deleted. */
export const HISTORY_KEEP_MS = 14 * 24 * 3600_000;
