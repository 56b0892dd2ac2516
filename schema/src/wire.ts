// Every wire message of the HTTP API (docs/api.md), defined once for the Worker and for Node.
import { z } from "zod";
import { GateAction, GateFlag, GateName, GateSetting } from "./gates";
import { Spec, SpecLint } from "./spec";

// ---------------------------------------------------------------- shared

export const SPEC_STATUSES = [
  "queued",
  "leased",
  "running",
  "awaiting_review",
  "approved",
  "declined",
  "rejected",
  "failed",
  "dead",
  "canceled",
] as const;
export const SpecStatus = z.enum(SPEC_STATUSES);
export type SpecStatus = z.infer<typeof SpecStatus>;

/** Statuses in which a spec blocks a duplicate dispatch. */
export const ACTIVE_STATUSES: readonly SpecStatus[] = ["queued", "leased", "running", "awaiting_review"];
/** Statuses from which an operator may retry. */
export const RETRYABLE_STATUSES: readonly SpecStatus[] = [
  "rejected",
  "failed",
  "dead",
  "canceled",
  "declined",
];
/** Statuses that `kill` may cancel: every non-terminal one. */
export const KILLABLE_STATUSES: readonly SpecStatus[] = [
  "queued",
  "leased",
  "running",
  "awaiting_review",
  "failed",
];

/** A run's own state: leased until its first heartbeat, running, then finished. */
export const RUN_STATES = ["leased", "running", "finished"] as const;
export type RunState = (typeof RUN_STATES)[number];

export const RUN_OUTCOMES = ["passed", "rejected", "failed"] as const;
export const RunOutcome = z.enum(RUN_OUTCOMES);
export type RunOutcome = z.infer<typeof RunOutcome>;

export const FAILURE_KINDS = [
  "preflight",
  "provider",
  "rate_limited",
  "auth",
  "timeout",
  "harness",
  "git",
  "canceled",
  "internal",
  "lost_lease",
] as const;
export const FailureKind = z.enum(FAILURE_KINDS);

/** The failure a restarted executor reports for a run its crash left unfinished. */
export const ORPHANED_RUN_FAILURE = {
  kind: "lost_lease",
  message: "the executor stopped while the run was in flight (crash or kill)",
} as const;
export type FailureKind = z.infer<typeof FailureKind>;
/** Failure kinds that count against a provider's circuit breaker. */
export const PROVIDER_SIDE_FAILURES: readonly FailureKind[] = [
  "preflight",
  "provider",
  "auth",
  "rate_limited",
];

export const PHASES = [
  "claimed",
  "preparing",
  "preflight",
  "harness",
  "gates",
  "pushing",
  "reporting",
] as const;
export const Phase = z.enum(PHASES);
export type Phase = z.infer<typeof Phase>;

export const ErrorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

export const Load = z.object({
  cpu: z.number().min(0).max(1000),
  mem_free: z.number().min(0).max(1),
  disk_free: z.number().min(0).max(1).optional(),
});
export type Load = z.infer<typeof Load>;

/** What the reviewer model spent on a run, counted apart from the worker's tokens and dollars. */
export const ReviewUsage = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cost_usd: z.number().min(0),
});
export type ReviewUsage = z.infer<typeof ReviewUsage>;

export const Usage = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cost_usd: z.number().min(0),
  turns: z.number().int().min(0),
  review: ReviewUsage.optional(),
});
export type Usage = z.infer<typeof Usage>;

export const Diffstat = z.object({
  files: z.number().int().min(0),
  insertions: z.number().int().min(0),
  deletions: z.number().int().min(0),
});
export type Diffstat = z.infer<typeof Diffstat>;

const shortText = z.string().max(500);
const id = z.string().min(1).max(100);

// ---------------------------------------------------------------- executor API

export const ExecutorInfo = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9._-]+$/, "executor id may contain only letters, digits, '.', '_' and '-'"),
  host: shortText,
  version: z.string().max(50),
  arch: z.string().max(50),
  capacity: z.number().int().min(0).max(256),
  providers: z.array(z.string().min(1).max(100)).max(50),
  repos: z.array(z.string().min(1).max(100)).max(500),
  load: Load,
  /** A fresh id per executor process. Runs are leased to the process, not only to the id. */
  boot: id.optional(),
  /**
   * The boot of the process this one replaces (kept in the executor's workdir). On the first
   * claim of a new boot the control plane ends that process's runs at once as `lost_lease`,
   * except those listed in `resumed`, instead of waiting out their leases.
   */
  previous_boot: id.optional(),
  /** Runs of the previous boot this process carries on (the Temporal engine resumes its runs). */
  resumed: z.array(id).max(256).optional(),
});
export type ExecutorInfo = z.infer<typeof ExecutorInfo>;

export const ClaimRequest = z.object({
  executor: ExecutorInfo,
  free: z.number().int().min(0).max(256),
  wait_s: z.number().min(0).max(25).default(0),
});
export type ClaimRequest = z.infer<typeof ClaimRequest>;

export const Lease = z.object({
  token: z.string(),
  ttl_s: z.number().int(),
  expires_at: z.string(),
});
export type Lease = z.infer<typeof Lease>;

/**
 * One entry of a spec's stored feedback for its next attempt: a note as written, or a flag of the
 * rejected attempt kept whole. The claim splits them into `feedback` and `feedback_flags`.
 */
export const FeedbackEntry = z.union([z.string(), GateFlag]);
export type FeedbackEntry = z.infer<typeof FeedbackEntry>;

export function splitFeedback(entries: readonly FeedbackEntry[]): {
  feedback: string[];
  feedback_flags: GateFlag[];
} {
  const feedback: string[] = [];
  const feedback_flags: GateFlag[] = [];
  for (const e of entries) {
    if (typeof e === "string") feedback.push(e);
    else feedback_flags.push(e);
  }
  return { feedback, feedback_flags };
}

export const ClaimedRun = z.object({
  run_id: z.string(),
  spec_id: z.string(),
  attempt: z.number().int().min(1),
  lease: Lease,
  provider: z.object({ name: z.string(), model: z.string().nullable(), harness: z.string().nullable() }),
  /** The front matter as validated, with `timeout` also written as in a spec (`2h`). */
  spec: Spec.extend({ timeout: z.string().optional() }),
  gates: z.record(GateName, GateSetting),
  /** People's words for the next attempt (a decline note), to be passed on as written. */
  feedback: z.array(z.string()),
  /** The rejected attempt's flags, with their facts: the executor writes instructions from them. */
  feedback_flags: z.array(GateFlag).default([]),
  /** `git patch-id`s of other specs' recent branches, for the `duplicate` gate. */
  recent_patch_ids: z.array(z.object({ spec_id: z.string(), patch_id: z.string() })).default([]),
});
export type ClaimedRun = z.infer<typeof ClaimedRun>;

/**
 * Why a claim got no runs. The first five are the executor protocol's own; the rest name the dispatch rule's
 * finer skip reasons for the spec at the head of the queue.
 */
export const CLAIM_REASONS = [
  "empty",
  "frozen",
  "no_slots",
  "overloaded",
  "draining",
  "breaker_open",
  "cooling",
  "disabled",
  "blocked",
  "not_served",
  "review_backlog",
  "outside_window",
  "budget",
] as const;
export const ClaimReason = z.enum(CLAIM_REASONS);
export type ClaimReason = z.infer<typeof ClaimReason>;

export const ClaimResponse = z.object({
  runs: z.array(ClaimedRun),
  reason: ClaimReason.optional(),
});
export type ClaimResponse = z.infer<typeof ClaimResponse>;

export const HeartbeatRequest = z.object({
  token: z.string().min(1).max(200),
  // Phase names are open: the mtor executor sends PHASES, others may send
  // their own (e.g. "running"), which must not cost them their lease.
  phase: z.string().trim().min(1).max(50),
  load: Load.optional(),
  progress: z.string().max(2000).optional(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({ cancel: z.boolean(), expires_at: z.string() });
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const Failure = z.object({
  kind: FailureKind,
  message: z.string().max(4000),
  retry_after_s: z.number().int().min(0).max(86400).optional(),
});
export type Failure = z.infer<typeof Failure>;

/** A grade as operators and reviewers write it: A to F, with an optional + or -. */
export const Grade = z
  .string()
  .regex(/^[A-F][+-]?$/, 'grade must be A to F, optionally with + or -, e.g. "B+"');

export const ReviewFinding = z.object({
  severity: z.enum(["info", "minor", "major", "critical"]),
  file: z.string().max(500),
  line: z.number().int().min(0).optional(),
  note: z.string().max(2000),
});
export type ReviewFinding = z.infer<typeof ReviewFinding>;

/**
 * The reviewer model's judgment of a run whose gates passed. Without a grade (`grade` absent)
 * the reviewer timed out, failed or answered badly twice, and `error` says which: the run is
 * reported on its gates alone.
 */
export const RunReview = z.object({
  provider: z.string().max(100),
  model: z.string().max(200).optional(),
  grade: Grade.optional(),
  findings: z.array(ReviewFinding).max(50).default([]),
  summary: z.string().max(4000).optional(),
  error: z.string().max(1000).optional(),
});
export type RunReview = z.infer<typeof RunReview>;

/**
 * The most of a run's patch a verdict carries, counted as the bytes of its JSON string (escapes
 * included), so that with the rest of a verdict it stays under the 256 KiB request body limit.
 */
export const PATCH_MAX_BYTES = 200 * 1024;

/**
 * The change a run made (`git diff` from the merge base to the gated sha, unified, no colour),
 * cut at a line boundary when longer than PATCH_MAX_BYTES: `truncated` says so and `bytes` is the
 * whole diff's size.
 */
export const RunPatch = z.object({
  text: z.string().max(PATCH_MAX_BYTES),
  truncated: z.boolean(),
  bytes: z.number().int().min(0),
});
export type RunPatch = z.infer<typeof RunPatch>;

const utf8 = new TextEncoder();

/** Bytes a string takes inside a JSON document (its quotes not counted). */
function jsonBytes(s: string): number {
  return utf8.encode(JSON.stringify(s)).length - 2;
}

/**
 * Bounds a diff for a verdict: `text` is what was read of it (all of it when `whole`), `bytes`
 * the whole diff's size. Cuts at the last whole line that keeps the JSON string under `maxBytes`.
 */
export function boundPatch(
  text: string,
  bytes: number,
  whole: boolean,
  maxBytes = PATCH_MAX_BYTES,
): RunPatch {
  if (whole && jsonBytes(text) <= maxBytes) return { text, truncated: false, bytes };
  const lines = text.split("\n");
  // The last line read may be partial, or end inside a character.
  if (!whole || lines[lines.length - 1] === "") lines.pop();
  let size = 0;
  let kept = 0;
  for (const line of lines) {
    const n = jsonBytes(`${line}\n`);
    if (size + n > maxBytes) break;
    size += n;
    kept++;
  }
  return { text: kept > 0 ? `${lines.slice(0, kept).join("\n")}\n` : "", truncated: true, bytes };
}

export const VerdictRequest = z.object({
  token: z.string().min(1).max(200),
  outcome: RunOutcome,
  flags: z.array(GateFlag).max(200).default([]),
  failure: Failure.optional(),
  branch: z.string().max(300).optional(),
  base_sha: z.string().max(64).optional(),
  head_sha: z.string().max(64).optional(),
  commits: z.number().int().min(0).max(100000).optional(),
  diffstat: Diffstat.optional(),
  /** `git patch-id --stable` of the branch's net diff, for other runs' `duplicate` gate. */
  patch_id: z.string().max(64).optional(),
  /** The change itself, for review; absent when the run made none or the executor predates it. */
  patch: RunPatch.optional(),
  usage: Usage.optional(),
  review: RunReview.optional(),
  duration_ms: z.number().int().min(0),
  log_tail: z.string().max(16384).optional(),
});
export type VerdictRequest = z.infer<typeof VerdictRequest>;

export const VerdictResponse = z.object({ status: SpecStatus });
export type VerdictResponse = z.infer<typeof VerdictResponse>;

// ---------------------------------------------------------------- operator API

/**
 * A dispatch as JSON: the spec's Markdown, with front matter fields (`repo`, `title`, …) allowed
 * beside it as strings or numbers, as the query parameters are (front matter wins).
 */
export const DispatchRequest = z.looseObject({
  spec: z
    .string({ error: "is required and must be a string" })
    .describe("the spec as Markdown with optional YAML front matter (title, repo, tests, stop, …)"),
});
export type DispatchRequest = z.infer<typeof DispatchRequest>;

export const DispatchResponse = z.object({
  id: z.string(),
  status: SpecStatus,
  title: z.string(),
  provider: z.string(),
  position: z.number().int(),
  /** Every warning as a sentence: spec_lint's (`spec_lint: …`) and others (an unserved repo). */
  warnings: z.array(z.string()),
  /** What spec_lint found, as data (empty when the gate is off). */
  lint: z.array(SpecLint),
});
export type DispatchResponse = z.infer<typeof DispatchResponse>;

export const SpecSummary = z.object({
  id: z.string(),
  title: z.string(),
  repo: z.string(),
  status: SpecStatus,
  provider: z.string(),
  /** The provider the latest run went to (null before the first claim); `provider` is the spec's. */
  run_provider: z.string().nullable(),
  attempt: z.number().int(),
  /**
   * The attempt after which a failure is final: `attempts` at dispatch, raised by each operator
   * retry (a retry grants the spec's `attempts` anew) and by one for each lost lease, which is
   * not charged though the next run gets a new attempt number.
   */
  max_attempt: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  outcome: RunOutcome.nullable(),
  flags: z.array(GateFlag),
});
export type SpecSummary = z.infer<typeof SpecSummary>;

export const SpecList = z.object({ specs: z.array(SpecSummary), next_cursor: z.string().nullable() });
export type SpecList = z.infer<typeof SpecList>;

export const RunView = z.object({
  id: z.string(),
  attempt: z.number().int(),
  executor: z.string(),
  provider: z.string(),
  status: z.enum(RUN_STATES),
  phase: z.string().nullable(),
  claimed_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  outcome: RunOutcome.nullable(),
  flags: z.array(GateFlag),
  branch: z.string().nullable(),
  base_sha: z.string().nullable(),
  head_sha: z.string().nullable(),
  commits: z.number().int().nullable(),
  diffstat: Diffstat.nullable(),
  usage: Usage.nullable(),
  /**
   * What the run counts against the spend budget in USD, and where that came from: the cost its
   * verdict reported, its tokens at the provider's prices, or the fallback price. Null in flight.
   */
  cost_usd: z.number().nullable().optional(),
  cost_source: z.enum(["reported", "price", "fallback"]).nullable().optional(),
  /** The reviewer model's grade and findings, when a reviewer looked at the run. */
  review: RunReview.nullable().optional(),
  duration_ms: z.number().int().nullable(),
  failure: Failure.nullable(),
  log_tail: z.string().nullable(),
  /** The run's patch as its verdict carried it; null when it carried none. */
  patch: RunPatch.nullable().optional(),
});
export type RunView = z.infer<typeof RunView>;

export const ReviewView = z.object({
  decision: z.enum(["approved", "declined"]),
  grade: z.string().nullable(),
  note: z.string().nullable(),
  by: z.string(),
  at: z.string(),
});
export type ReviewView = z.infer<typeof ReviewView>;

export const SpecDetail = SpecSummary.extend({
  /** `timeout` as a spec writes it (`2h`); `timeout_s` the same in seconds. */
  front_matter: Spec.omit({ body: true }).extend({ timeout: z.string() }),
  body: z.string(),
  warnings: z.array(z.string()),
  next_attempt_at: z.string().nullable(),
  runs: z.array(RunView),
  review: ReviewView.nullable(),
});
export type SpecDetail = z.infer<typeof SpecDetail>;

export const ApproveRequest = z.object({
  grade: Grade.optional(),
  note: z.string().max(4000).optional(),
});
export type ApproveRequest = z.infer<typeof ApproveRequest>;

export const DeclineRequest = z.object({
  note: z.string().max(4000).optional(),
  retry: z.boolean().optional(),
});
export type DeclineRequest = z.infer<typeof DeclineRequest>;

/** An amount of US dollars in the settings: a budget, a price, a raise. */
export const Usd = z
  .number({ error: "must be a number of US dollars, e.g. 12.5" })
  .min(0, "must not be negative")
  .max(1_000_000, "must be at most 1000000");
/** An amount that must be more than nothing: a budget, the fallback price, a raise. */
const PositiveUsd = Usd.refine((n) => n > 0, "must be more than 0");

/** A provider's prices, in USD per million tokens, for runs whose verdict reports no cost. */
export const Price = z
  .object({ input_per_mtok: Usd, output_per_mtok: Usd })
  .strict()
  .refine((p) => p.input_per_mtok > 0 || p.output_per_mtok > 0, {
    message: "at least one of input_per_mtok and output_per_mtok must be more than 0; null removes the price",
  });
export type Price = z.infer<typeof Price>;

export const BREAKER_STATES = ["closed", "open", "half_open"] as const;
export const BreakerState = z.enum(BREAKER_STATES);
export type BreakerState = z.infer<typeof BreakerState>;

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** A run window, "HH:MM-HH:MM" (24 h clock); a start after the end wraps past midnight. */
export const WindowText = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'must be "HH:MM-HH:MM", e.g. "22:00-06:00"')
  .refine((w) => w.slice(0, 5) !== w.slice(6), "start and end must differ");
export const TimeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone, e.g. "Europe/Berlin" or "UTC"');

/** A run window as stored: claims get new runs only inside it. */
export const RunWindow = z.object({
  window: WindowText,
  zone: TimeZone,
  /** Start no run whose timeout would end after the window closes. */
  fit: z.boolean(),
});
export type RunWindow = z.infer<typeof RunWindow>;

/** A window and where the clock stands in it. */
export const WindowView = RunWindow.extend({
  open: z.boolean(),
  /** When it next opens (closed) or closes (open). */
  next_change: z.string(),
});
export type WindowView = z.infer<typeof WindowView>;

export const ProviderView = z.object({
  name: z.string(),
  slots: z.number().int(),
  effective_slots: z.number().int(),
  in_use: z.number().int(),
  enabled: z.boolean(),
  harness: z.string().nullable(),
  model: z.string().nullable(),
  breaker: z.object({
    state: BreakerState,
    consecutive_failures: z.number().int(),
    open_until: z.string().nullable(),
  }),
  /** Whether a rate limit cools the provider now ("cooling"), and until when. */
  cooling: z.boolean(),
  cooling_until: z.string().nullable(),
  frozen: z.boolean(),
  recent_outcomes: z.array(z.string()),
  queued: z.number().int(),
  /** The provider's spend budget per night in USD, and its prices for runs that report no cost. */
  budget_usd: z.number().nullable().optional(),
  price: Price.nullable().optional(),
  /** The provider's run window (set with `PUT /v1/providers/:name`), open or closed now; null without one. */
  window: WindowView.nullable().optional(),
});
export type ProviderView = z.infer<typeof ProviderView>;

export const ExecutorView = z.object({
  id: z.string(),
  host: z.string(),
  version: z.string(),
  arch: z.string(),
  capacity: z.number().int(),
  providers: z.array(z.string()),
  repos: z.array(z.string()),
  load: Load.nullable(),
  draining: z.boolean(),
  last_seen_at: z.string(),
  runs: z.array(z.object({ run_id: z.string(), spec_id: z.string(), phase: z.string().nullable() })),
});
export type ExecutorView = z.infer<typeof ExecutorView>;

/** The answers of `GET /v1/providers`, `GET /v1/executors` and `GET /v1/gates`. */
export const ProviderList = z.object({ providers: z.array(ProviderView) });
export type ProviderList = z.infer<typeof ProviderList>;
export const ExecutorList = z.object({ executors: z.array(ExecutorView) });
export type ExecutorList = z.infer<typeof ExecutorList>;
export const GateList = z.object({ gates: z.record(GateName, GateSetting) });
export type GateList = z.infer<typeof GateList>;

/** `details` of a 400 `invalid_spec` / `invalid_request`: one entry per bad field. */
export const FieldErrors = z.object({
  errors: z.array(z.object({ field: z.string(), message: z.string() })),
});
export type FieldErrors = z.infer<typeof FieldErrors>;

export const GateUpdate = z.object({ action: GateAction, retry: z.boolean().optional() });
export type GateUpdate = z.infer<typeof GateUpdate>;

// ---------------------------------------------------------------- night controls

/** A review backlog limit: at least this many specs awaiting review hold new claims; 0 is off. */
export const ReviewLimit = z
  .number({ error: "must be a whole number, 0 to turn the limit off" })
  .int("must be a whole number, 0 to turn the limit off")
  .min(0, "must be 0 (off) or more")
  .max(10_000, "must be at most 10000");

/** A record keyed by repo name; a bad name is refused with a message that says why. */
const byRepo = <T extends z.ZodType>(value: T) =>
  z.record(z.string(), value).superRefine((record, ctx) => {
    for (const repo of Object.keys(record)) {
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(repo))
        ctx.addIssue({
          code: "custom",
          path: [repo],
          message: "a repo name is 1 to 100 letters, digits, '.', '_' or '-'",
        });
    }
  });

/** The window fields of `PUT /v1/settings` and `PUT /v1/providers/:name`; `window: null` removes it. */
export const WindowUpdate = z.object({
  window: WindowText.nullable().optional(),
  window_zone: TimeZone.optional(),
  window_fit: z.boolean().optional(),
});
export type WindowUpdate = z.infer<typeof WindowUpdate>;

/** The budget fields of `PUT /v1/providers/:name`: `null` removes the budget or the price. */
export const ProviderBudgetUpdate = z.object({
  budget_usd: PositiveUsd.nullable().optional(),
  price: Price.nullable().optional(),
});
export type ProviderBudgetUpdate = z.infer<typeof ProviderBudgetUpdate>;

export const ProviderUpdate = z
  .object({
    slots: z.number().int().min(1).max(256).optional(),
    enabled: z.boolean().optional(),
    harness: z.string().min(1).max(100).nullable().optional(),
    model: z.string().min(1).max(200).nullable().optional(),
  })
  .extend(WindowUpdate.shape)
  .extend(ProviderBudgetUpdate.shape);
export type ProviderUpdate = z.infer<typeof ProviderUpdate>;

/** The fleet's night controls as stored and answered by `GET /v1/settings`. */
export const FleetSettings = z.object({
  max_awaiting_review: ReviewLimit,
  repos: byRepo(z.object({ max_awaiting_review: ReviewLimit })),
  window: RunWindow.nullable(),
  /** Per provider night controls (set through `PUT /v1/providers/:name`). */
  providers: z.record(
    z.string(),
    z.object({
      window: RunWindow.nullable(),
      budget_usd: PositiveUsd.nullable().optional(),
      price: Price.nullable().optional(),
    }),
  ),
  /** The fleet's spend budget per night in USD; null: none. */
  budget_usd: PositiveUsd.nullable(),
  /** What a run counts when neither its verdict nor a price table says what it cost. */
  fallback_run_usd: PositiveUsd,
  /** What the "raise" phone action adds to a budget for the rest of the night. */
  raise_usd: PositiveUsd,
});
export type FleetSettings = z.infer<typeof FleetSettings>;

/** `PUT /v1/settings`: fields given change; a repo's limit set to null falls back to the fleet's. */
export const FleetSettingsUpdate = z
  .object({
    max_awaiting_review: ReviewLimit.optional(),
    repos: byRepo(z.object({ max_awaiting_review: ReviewLimit.nullable() }).strict()).optional(),
    budget_usd: PositiveUsd.nullable().optional(),
    fallback_run_usd: PositiveUsd.optional(),
    raise_usd: PositiveUsd.optional(),
  })
  .extend(WindowUpdate.shape)
  .strict();
export type FleetSettingsUpdate = z.infer<typeof FleetSettingsUpdate>;

/** How many specs await review against the limits, and whether that holds new claims. */
export const ReviewBacklog = z.object({
  awaiting_review: z.number().int(),
  max_awaiting_review: z.number().int(),
  holding: z.boolean(),
  repos: z.array(
    z.object({
      repo: z.string(),
      awaiting_review: z.number().int(),
      /** The repo's own limit; null when only the fleet's applies. */
      max_awaiting_review: z.number().int().nullable(),
      holding: z.boolean(),
    }),
  ),
});
export type ReviewBacklog = z.infer<typeof ReviewBacklog>;

/** One budget (the fleet's, or a provider's) against tonight's spend. */
export const BudgetLine = z.object({
  /** null for the fleet's budget. */
  provider: z.string().nullable(),
  budget_usd: z.number(),
  /** What "raise" taps added for the rest of this night. */
  raised_usd: z.number(),
  spend_usd: z.number(),
  /** When this night began: the window's opening, or 24 h ago without a window. */
  night_start: z.string(),
  /** Whether the spend reached the budget and no resume lets claims through. */
  holding: z.boolean(),
  /** A "resume until morning" in effect: claims go on until then whatever the spend. */
  resumed_until: z.string().nullable(),
  /** When the budget was reached, while it holds. */
  reached_at: z.string().nullable(),
});
export type BudgetLine = z.infer<typeof BudgetLine>;

/** The night's spend against the budgets: the fleet's, and each provider's that has one. */
export const BudgetView = z.object({
  fleet: BudgetLine.nullable(),
  providers: z.array(BudgetLine),
  /** Tonight's spend of the whole fleet (since the fleet's night began), with or without a budget. */
  spend_usd: z.number(),
  fallback_run_usd: z.number(),
  raise_usd: z.number(),
});
export type BudgetView = z.infer<typeof BudgetView>;

export const SettingsView = FleetSettings.extend({
  review_backlog: ReviewBacklog,
  budget: BudgetView,
  /** The fleet's window and each provider's, with whether each is open now. */
  windows: z.object({
    fleet: WindowView.nullable(),
    providers: z.array(WindowView.extend({ provider: z.string() })),
  }),
});
export type SettingsView = z.infer<typeof SettingsView>;

export const StatusView = z.object({
  frozen: z.boolean(),
  counts: z.record(z.string(), z.number().int()),
  providers: z.array(ProviderView),
  executors: z.array(ExecutorView),
  /** The last monitor pass, or null when none has run (then `monitor_hint` says why it matters). */
  monitor: z.unknown().optional(),
  monitor_hint: z.string().optional(),
  review_backlog: ReviewBacklog.optional(),
  windows: SettingsView.shape.windows.optional(),
  budget: BudgetView.optional(),
});
export type StatusView = z.infer<typeof StatusView>;

export const WEBHOOK_EVENTS = [
  "spec.verdict",
  "spec.failed",
  "spec.dead",
  "spec.stuck",
  "provider.tripped",
  "monitor.digest",
  "report.daily",
  "run.security",
  "budget.reached",
] as const;
export const WebhookEvent = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEvent>;
export const WEBHOOK_FORMATS = ["standard", "slack", "discord", "ntfy"] as const;
export const WebhookFormat = z.enum(WEBHOOK_FORMATS);
export type WebhookFormat = z.infer<typeof WebhookFormat>;

export const WebhookCreate = z.object({
  url: z.string().url().max(2000),
  events: z
    .array(WebhookEvent)
    .min(1)
    .default([...WEBHOOK_EVENTS]),
  format: WebhookFormat.default("standard"),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "secret must be whsec_ followed by base64")
    .optional(),
});
export type WebhookCreate = z.infer<typeof WebhookCreate>;

export { id as IdString };
