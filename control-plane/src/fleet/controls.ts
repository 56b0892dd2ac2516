// Night controls: the review backlog limits that hold new claims while too much work waits for
// a person. Stored as one settings row; read inside the claim's transaction.
import { specs } from "@mtor/schema/tables/fleet";
import type { FleetSettings, FleetSettingsUpdate, ReviewBacklog } from "@mtor/schema/wire";
import { eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import { getSetting, putSetting } from "./settings";

const KEY = "night_controls";
export const DEFAULT_MAX_AWAITING_REVIEW = 10;

export function fleetSettings(db: Db): FleetSettings {
  const stored = getSetting<Partial<FleetSettings>>(db, KEY, {});
  return {
    max_awaiting_review: stored.max_awaiting_review ?? DEFAULT_MAX_AWAITING_REVIEW,
    repos: stored.repos ?? {},
  };
}

export function putFleetSettings(db: Db, update: FleetSettingsUpdate): FleetSettings {
  const next = fleetSettings(db);
  if (update.max_awaiting_review !== undefined) next.max_awaiting_review = update.max_awaiting_review;
  for (const [repo, limit] of Object.entries(update.repos ?? {})) {
    if (limit.max_awaiting_review === null) delete next.repos[repo];
    else next.repos[repo] = { max_awaiting_review: limit.max_awaiting_review };
  }
  putSetting(db, KEY, next);
  return next;
}

const atLimit = (count: number, limit: number) => limit > 0 && count >= limit;

/** The backlog against the limits: the fleet's, and each repo that has a limit or waiting specs. */
export function reviewBacklog(db: Db, settings = fleetSettings(db)): ReviewBacklog {
  // Counted through specs_backoff_idx (status first): only awaiting specs are read.
  const perRepo = db
    .select({ repo: specs.repo, n: sql<number>`count(*)` })
    .from(specs)
    .where(eq(specs.status, "awaiting_review"))
    .groupBy(specs.repo)
    .all();
  const counts = new Map(perRepo.map((r) => [r.repo, Number(r.n)]));
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const names = [...new Set([...counts.keys(), ...Object.keys(settings.repos)])].sort();
  return {
    awaiting_review: total,
    max_awaiting_review: settings.max_awaiting_review,
    holding: atLimit(total, settings.max_awaiting_review),
    repos: names.map((repo) => {
      const n = counts.get(repo) ?? 0;
      const limit = settings.repos[repo]?.max_awaiting_review ?? null;
      return {
        repo,
        awaiting_review: n,
        max_awaiting_review: limit,
        holding: limit !== null && atLimit(n, limit),
      };
    }),
  };
}

/** What the review backlog holds now: every claim (the fleet's limit), or the named repos. */
export function reviewHold(db: Db): { fleet: boolean; repos: Set<string> } {
  const backlog = reviewBacklog(db);
  return {
    fleet: backlog.holding,
    repos: new Set(backlog.repos.filter((r) => r.holding).map((r) => r.repo)),
  };
}
