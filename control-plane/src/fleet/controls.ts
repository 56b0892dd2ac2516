// Night controls: the review backlog limits that hold new claims while too much work waits for
// a person, and the run windows outside which no run starts. Stored as one settings row; read
// inside the claim's transaction.
import { specs } from "@mtor/schema/tables/fleet";
import type {
  BudgetView,
  FleetSettings,
  FleetSettingsUpdate,
  ProviderBudgetUpdate,
  ReviewBacklog,
  SettingsView,
  WindowUpdate,
  WindowView,
} from "@mtor/schema/wire";
import { eq, sql } from "drizzle-orm";
import { iso, isoOrNull } from "../core/clock";
import type { Db } from "../core/db";
import { ApiError } from "../errors";
import { budgetPeriods, budgetView, DEFAULT_FALLBACK_RUN_USD, DEFAULT_RAISE_USD } from "./budget";
import { getSetting, putSetting } from "./settings";
import { nextWindow, ROLLING_NIGHT_MS, windowAt } from "./windows";

const KEY = "night_controls";
export const DEFAULT_MAX_AWAITING_REVIEW = 10;

export function fleetSettings(db: Db): FleetSettings {
  const stored = getSetting<Partial<FleetSettings>>(db, KEY, {});
  return {
    max_awaiting_review: stored.max_awaiting_review ?? DEFAULT_MAX_AWAITING_REVIEW,
    repos: stored.repos ?? {},
    window: stored.window ?? null,
    providers: stored.providers ?? {},
    budget_usd: stored.budget_usd ?? null,
    fallback_run_usd: stored.fallback_run_usd ?? DEFAULT_FALLBACK_RUN_USD,
    raise_usd: stored.raise_usd ?? DEFAULT_RAISE_USD,
  };
}

/** A window update against the window there is; zone or fit alone need a window to act on. */
function updatedWindow(current: FleetSettings["window"], update: WindowUpdate, where: string) {
  if (
    update.window === undefined &&
    !current &&
    (update.window_zone !== undefined || update.window_fit !== undefined)
  ) {
    throw new ApiError(400, "invalid_request", `${where} has no window; set window ("22:00-06:00") first`, {
      errors: [{ field: "window", message: "is required to set window_zone or window_fit" }],
    });
  }
  return nextWindow(current, update);
}

export function putFleetSettings(db: Db, update: FleetSettingsUpdate): FleetSettings {
  const next = fleetSettings(db);
  next.window = updatedWindow(next.window, update, "the fleet");
  if (update.max_awaiting_review !== undefined) next.max_awaiting_review = update.max_awaiting_review;
  if (update.budget_usd !== undefined) next.budget_usd = update.budget_usd;
  if (update.fallback_run_usd !== undefined) next.fallback_run_usd = update.fallback_run_usd;
  if (update.raise_usd !== undefined) next.raise_usd = update.raise_usd;
  for (const [repo, limit] of Object.entries(update.repos ?? {})) {
    if (limit.max_awaiting_review === null) delete next.repos[repo];
    else next.repos[repo] = { max_awaiting_review: limit.max_awaiting_review };
  }
  putSetting(db, KEY, next);
  return next;
}

/**
 * How many specs have `status`, by repo or by provider. Counted through specs_backoff_idx
 * (status first), so only specs with that status are read.
 */
function countsIn(
  db: Db,
  status: "awaiting_review" | "queued",
  by: "repo" | "provider",
): Map<string, number> {
  const rows = db
    .select({ key: specs[by], n: sql<number>`count(*)` })
    .from(specs)
    .where(eq(specs.status, status))
    .groupBy(specs[by])
    .all();
  return new Map(rows.map((r) => [r.key, Number(r.n)]));
}

const atLimit = (count: number, limit: number) => limit > 0 && count >= limit;

/** The backlog against the limits: the fleet's, and each repo that has a limit or waiting specs. */
export function reviewBacklog(db: Db, settings = fleetSettings(db)): ReviewBacklog {
  const counts = countsIn(db, "awaiting_review", "repo");
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

/**
 * Whether at least `limit` specs of `repo` (or of any repo) await review. Counts no further
 * than the limit, through an index holding only specs awaiting review: a claim pays for the
 * limit, never for the size of the backlog.
 */
function reachedLimit(db: Db, limit: number, repo: string | null): boolean {
  const where = repo === null ? sql`` : sql` AND ${specs.repo} = ${repo}`;
  const [row] = db.all<{ n: number }>(sql`
    SELECT count(*) AS n FROM (
      SELECT 1 FROM ${specs} INDEXED BY specs_review_idx
      WHERE ${specs.status} = 'awaiting_review'${where} LIMIT ${limit})`);
  return (row?.n ?? 0) >= limit;
}

/** Whether the review backlog holds every claim, and which repos it holds. */
export interface ReviewHold {
  fleet: boolean;
  repos: ReadonlySet<string>;
}

/**
 * What the review backlog holds now: every claim (the fleet's limit), or the named repos. Only
 * the limits that are set are checked, each by a count that stops at the limit.
 */
export function reviewHold(db: Db, settings = fleetSettings(db)): ReviewHold {
  const fleet = settings.max_awaiting_review > 0 && reachedLimit(db, settings.max_awaiting_review, null);
  const repos = new Set<string>();
  if (!fleet) {
    for (const [repo, { max_awaiting_review: limit }] of Object.entries(settings.repos)) {
      if (limit > 0 && reachedLimit(db, limit, repo)) repos.add(repo);
    }
  }
  return { fleet, repos };
}

/**
 * Sets or removes one provider's run window, spend budget and prices (those fields of
 * `PUT /v1/providers/:name`); `null` removes one.
 */
export function putProviderControls(db: Db, name: string, update: WindowUpdate & ProviderBudgetUpdate): void {
  const { budget_usd, price, ...windowUpdate } = update;
  const windowChange =
    windowUpdate.window !== undefined ||
    windowUpdate.window_zone !== undefined ||
    windowUpdate.window_fit !== undefined;
  if (!windowChange && budget_usd === undefined && price === undefined) return;
  const next = fleetSettings(db);
  const current = next.providers[name] ?? { window: null };
  const entry = {
    window: windowChange ? updatedWindow(current.window, windowUpdate, `provider ${name}`) : current.window,
    budget_usd: budget_usd === undefined ? (current.budget_usd ?? null) : budget_usd,
    price: price === undefined ? (current.price ?? null) : price,
  };
  if (entry.window || entry.budget_usd || entry.price) next.providers[name] = entry;
  else delete next.providers[name];
  putSetting(db, KEY, next);
}

/** The fleet's window and each provider's, as they stand at `now`. */
export function windowsAt(settings: FleetSettings, now: number): SettingsView["windows"] {
  return {
    fleet: settings.window ? windowAt(settings.window, now) : null,
    providers: Object.entries(settings.providers)
      .filter(([, p]) => p.window)
      .map(([provider, p]) => ({ provider, ...windowAt(p.window as NonNullable<typeof p.window>, now) })),
  };
}

/** Everything the settings answer: the stored controls, the backlog and the windows now. */
export function settingsView(db: Db, now: number, settings = fleetSettings(db)): SettingsView {
  return {
    ...settings,
    review_backlog: reviewBacklog(db, settings),
    windows: windowsAt(settings, now),
    budget: budgetView(db, now, settings),
  };
}

/** The windows that bear on a claim at `now`: the fleet's, and each provider's by name. */
export function windowHold(
  settings: FleetSettings,
  now: number,
): { fleet: WindowView | null; providers: Map<string, WindowView> } {
  const w = windowsAt(settings, now);
  return { fleet: w.fleet, providers: new Map(w.providers.map((p) => [p.provider, p])) };
}

/** Whether a run of `timeoutS` started at `now` ends before every fitting window that applies closes. */
export function fitsWindows(
  windows: (WindowView | null | undefined)[],
  now: number,
  timeoutS: number,
): boolean {
  return windows.every((w) => !w?.fit || !w.open || now + timeoutS * 1000 <= Date.parse(w.next_change));
}

/** The night controls for the report: the backlog, the windows at `now`, and what waits for them. */
export function nightControls(
  db: Db,
  now: number,
): {
  review_backlog: ReviewBacklog;
  windows: SettingsView["windows"];
  waiting_for_window: number;
  budget: BudgetView;
  /** The times a budget held claims in the last 24 h (ISO; `to` null while it holds). */
  budget_holds: { provider: string | null; from: string; to: string | null; ended_by: string | null }[];
} {
  const settings = fleetSettings(db);
  const windows = windowsAt(settings, now);
  const fleetClosed = windows.fleet !== null && !windows.fleet.open;
  const closed = new Set(windows.providers.filter((w) => !w.open).map((w) => w.provider));
  let waiting = 0;
  for (const [provider, n] of countsIn(db, "queued", "provider")) {
    if (fleetClosed || closed.has(provider)) waiting += n;
  }
  return {
    review_backlog: reviewBacklog(db),
    windows,
    waiting_for_window: waiting,
    budget: budgetView(db, now, settings),
    budget_holds: budgetPeriods(db, now - ROLLING_NIGHT_MS, now).map((p) => ({
      provider: p.provider,
      from: iso(p.from),
      to: isoOrNull(p.to),
      ended_by: p.ended_by,
    })),
  };
}
