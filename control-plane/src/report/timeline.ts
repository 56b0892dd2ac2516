// The report's picture: what the timeline renderer needs for [since, until], read in one
// transaction — the runs that overlap it (finished inside it, or still in flight), each
// provider's slots, the periods that held work back (the fleet's history and the budget's holds)
// and the review backlog over time.
import { providers, runs, specs } from "@mtor/schema/tables/fleet";
import type { TimelineInput } from "@mtor/schema/timeline";
import { and, asc, eq, gte, inArray, lte } from "drizzle-orm";
import type { Db } from "../core/db";
import { budgetPeriods } from "../fleet/budget";
import { fleetSettings } from "../fleet/controls";
import { backlogBetween, periodsBetween } from "../fleet/history";
import { ACTIVE_RUN_STATUSES } from "../fleet/providers";
import { REPORT_RUN_CAP } from "./build";

export function timelineInput(db: Db, since: number, until: number): TimelineInput {
  const columns = {
    id: runs.id,
    title: specs.title,
    provider: runs.provider,
    start: runs.claimedAt,
    end: runs.finishedAt,
    outcome: runs.outcome,
    failure: runs.failure,
  };
  const finished = db
    .select(columns)
    .from(runs)
    .innerJoin(specs, eq(specs.id, runs.specId))
    .where(and(gte(runs.finishedAt, since), lte(runs.finishedAt, until)))
    .orderBy(asc(runs.finishedAt))
    .limit(REPORT_RUN_CAP)
    .all();
  const active = db
    .select(columns)
    .from(runs)
    .innerJoin(specs, eq(specs.id, runs.specId))
    .where(and(inArray(runs.status, ACTIVE_RUN_STATUSES), lte(runs.claimedAt, until)))
    .limit(REPORT_RUN_CAP)
    .all();
  const settings = fleetSettings(db);
  return {
    title: "mtor night",
    since,
    until,
    providers: db
      .select({ name: providers.name, slots: providers.slots })
      .from(providers)
      .orderBy(providers.name)
      .all(),
    runs: [...finished, ...active].map((r) => ({
      id: r.id,
      title: r.title,
      provider: r.provider,
      start: r.start,
      end: r.end,
      outcome: r.end === null ? null : r.outcome,
      failure_kind: r.failure?.kind ?? null,
    })),
    periods: [
      ...periodsBetween(db, since, until),
      // The budget keeps its own holds, with how each ended.
      ...budgetPeriods(db, since, until).map((p) => ({
        kind: "budget" as const,
        provider: p.provider,
        start: p.from,
        end: p.to,
        detail: p.ended_by ? `ended by ${p.ended_by.replace("_", " ")}` : null,
      })),
    ],
    backlog: backlogBetween(db, since, until),
    backlog_limit: settings.max_awaiting_review,
    zone: settings.window?.zone ?? "UTC",
  };
}
