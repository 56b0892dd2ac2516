// The webhook events and their payloads, defined once: the Fleet's `emit` writes them to the
// outbox, the delivery formats read them, and docs/webhooks.md describes them.
import { z } from "zod";
import { GateFlag } from "./gates";
import { Diffstat, Failure, FailureKind, RunOutcome, RunReview, SpecStatus, type WebhookEvent } from "./wire";

/** What every event about one run of a spec says. */
const RunFields = {
  spec_id: z.string(),
  title: z.string(),
  repo: z.string(),
  run_id: z.string(),
  attempt: z.number().int(),
};

const event = <T extends WebhookEvent, P extends z.ZodRawShape>(type: T, payload: P) =>
  z.object({ type: z.literal(type), payload: z.object(payload) });

export const SpecVerdictEvent = event("spec.verdict", {
  ...RunFields,
  provider: z.string(),
  executor: z.string(),
  outcome: RunOutcome,
  /** Where the spec went: awaiting_review, or rejected for good. */
  status: SpecStatus,
  flags: z.array(GateFlag),
  branch: z.string().nullable(),
  head_sha: z.string().nullable(),
  diffstat: Diffstat.nullable(),
  /** The reviewer model's grade; null without a reviewer, or when it gave none (see review.error). */
  grade: z.string().nullable(),
  review: RunReview.nullable(),
  /** Set only on the notification `POST /v1/webhooks/:id/test` sends; no spec is behind it. */
  test: z.literal(true).optional(),
  note: z.string().optional(),
});

export const SpecFailedEvent = event("spec.failed", {
  ...RunFields,
  failure: Failure,
  /** When the retry backoff ends and the spec is queued again. */
  next_attempt_at: z.string(),
});

export const SpecDeadEvent = event("spec.dead", {
  ...RunFields,
  failure: Failure,
  attempts: z.number().int(),
});

export const SpecStuckEvent = event("spec.stuck", {
  spec_id: z.string(),
  title: z.string(),
  repo: z.string(),
  provider: z.string(),
  status: SpecStatus,
  attempt: z.number().int(),
  flags: z.array(GateFlag),
  /** `stuck` (no executor serves it) or `runaway` (every attempt raised the same flags). */
  kind: z.enum(["stuck", "runaway"]),
  reason: z.string(),
});

export const ProviderTrippedEvent = event("provider.tripped", {
  provider: z.string(),
  consecutive_failures: z.number().int(),
  failure_kind: FailureKind,
  open_until: z.string(),
});

export const RunSecurityEvent = event("run.security", {
  ...RunFields,
  provider: z.string(),
  executor: z.string(),
  outcome: RunOutcome,
  /** The protected_branch_touched flags: which refs of the origin moved. */
  flags: z.array(GateFlag),
});

export const MonitorDigestEvent = event("monitor.digest", {
  since: z.string().nullable(),
  until: z.string(),
  /** Events since the last digest, by type. */
  events: z.record(z.string(), z.number().int()),
  /** What the monitor passes since the last digest changed, by kind. */
  monitor: z.record(z.string(), z.number()),
  specs: z.array(z.object({ spec_id: z.string(), title: z.string().nullable(), event: z.string() })),
  text: z.string(),
});

export const ReportDailyEvent = event("report.daily", {
  since: z.string(),
  until: z.string(),
  /** `report.totals`, at the top for formats that show only the totals. */
  totals: z.record(z.string(), z.unknown()),
  /** The night's report, as `GET /v1/report` answers it. */
  report: z.record(z.string(), z.unknown()),
  text: z.string(),
});

export const BudgetReachedEvent = event("budget.reached", {
  /** This reach of the budget: what its raise / resume links act on. */
  reach_id: z.string(),
  /** null for the fleet's budget. */
  provider: z.string().nullable(),
  budget_usd: z.number(),
  raised_usd: z.number(),
  spend_usd: z.number(),
  night_start: z.string(),
  /** When a raise or a resume from this notification ends. */
  morning: z.string(),
  /** What one "raise" tap adds. */
  raise_usd: z.number(),
});

/** One outbox event: its type and the payload that type carries. */
export const WebhookEventPayload = z.discriminatedUnion("type", [
  SpecVerdictEvent,
  SpecFailedEvent,
  SpecDeadEvent,
  SpecStuckEvent,
  ProviderTrippedEvent,
  RunSecurityEvent,
  MonitorDigestEvent,
  ReportDailyEvent,
  BudgetReachedEvent,
]);
export type WebhookEventPayload = z.infer<typeof WebhookEventPayload>;

/** The payload of one event type. */
export type PayloadOf<T extends WebhookEvent> = Extract<WebhookEventPayload, { type: T }>["payload"];

/** An outbox row as the event it is: `emit` wrote the row from this very union. */
export function outboxEvent(row: { type: WebhookEvent; payload: unknown }): WebhookEventPayload {
  return { type: row.type, payload: row.payload } as WebhookEventPayload;
}

/** The spec and run an event is about, when it is about one. */
export function eventSubject(
  e: WebhookEventPayload,
): { spec_id: string; title: string; run_id: string | null } | null {
  const p = e.payload;
  if (!("spec_id" in p)) return null;
  return { spec_id: p.spec_id, title: p.title, run_id: "run_id" in p ? p.run_id : null };
}
