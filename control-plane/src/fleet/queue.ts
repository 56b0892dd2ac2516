// The spec queue: dispatch with dedup, list, show, and the operator's transitions.

import { type Spec, type SpecLint, specLint } from "@mtor/schema/spec";
import { runPatches, runs, specs } from "@mtor/schema/tables/fleet";
import {
  ACTIVE_STATUSES,
  type ApproveRequest,
  type DeclineRequest,
  type DispatchResponse,
  type FeedbackEntry,
  KILLABLE_STATUSES,
  RETRYABLE_STATUSES,
  type SpecDetail,
  type SpecList,
  type SpecStatus,
  type SpecSummary,
} from "@mtor/schema/wire";
import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Deps } from "../core/db";
import { newSpecId } from "../core/ids";
import { ApiError, notFound } from "../errors";
import { NO_LOST_LEASES } from "./leases";
import { advertised, unservedReason, unservedWarning } from "./serving";
import { gateSettings } from "./settings";
import { type SpecRow, specDetail, specSummary } from "./views";

export interface DispatchInput {
  spec: Spec;
  /** What spec_lint found; the gate's action decides whether it warns, rejects or is silent. */
  lint: SpecLint[];
  dedupKey: string;
  createdBy: string;
}

export function getSpec(db: Db, id: string): SpecRow {
  const row = db.select().from(specs).where(eq(specs.id, id)).get();
  if (!row) throw notFound("spec", id);
  return row;
}

/** A spec's summary with the provider its latest run went to. */
function summaryOf(db: Db, s: SpecRow): SpecSummary {
  const run = s.currentRunId
    ? db.select({ provider: runs.provider }).from(runs).where(eq(runs.id, s.currentRunId)).get()
    : undefined;
  return specSummary(s, run?.provider ?? null);
}

function activeDuplicate(db: Db, key: string, exceptId?: string): SpecRow | undefined {
  return db
    .select()
    .from(specs)
    .where(and(eq(specs.dedupKey, key), inArray(specs.status, [...ACTIVE_STATUSES])))
    .all()
    .find((s) => s.id !== exceptId);
}

function duplicateError(existing: SpecRow): ApiError {
  return new ApiError(
    409,
    "duplicate",
    `an identical spec ${existing.id} is still ${existing.status}; approve, decline or kill it first`,
    { existing_id: existing.id, existing_status: existing.status },
  );
}

/** 1-based place in the queue of a queued spec: higher priority first, then dispatch order. */
/** Queued specs ahead of this one, plus one: two ranges of specs_queued_idx, read in the index alone. */
function queuePosition(db: Db, priority: number, id: string): number {
  const [row] = db.all<{ n: number }>(sql`
    SELECT
      (SELECT count(*) FROM specs INDEXED BY specs_queued_idx
        WHERE status = 'queued' AND priority > ${priority})
      + (SELECT count(*) FROM specs INDEXED BY specs_queued_idx
        WHERE status = 'queued' AND priority = ${priority}
          AND rowid < (SELECT rowid FROM specs WHERE id = ${id})) AS n`);
  return (row?.n ?? 0) + 1;
}

export function dispatch(tx: Db, deps: Deps, input: DispatchInput): DispatchResponse {
  const now = deps.now();
  const existing = activeDuplicate(tx, input.dedupKey);
  if (existing) throw duplicateError(existing);

  if (input.spec.after.length > 0) {
    const known = new Set(
      tx
        .select({ id: specs.id })
        .from(specs)
        .where(inArray(specs.id, input.spec.after))
        .all()
        .map((r) => r.id),
    );
    const unknown = input.spec.after.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ApiError(400, "invalid_spec", `after names unknown spec id(s): ${unknown.join(", ")}`, {
        errors: [{ field: "after", message: `unknown spec id(s): ${unknown.join(", ")}` }],
      });
    }
  }

  const lint = specLint(input.lint, gateSettings(tx).spec_lint.action);
  const warnings = lint.warnings;
  if (lint.errors.length > 0) {
    throw new ApiError(
      400,
      "invalid_spec",
      `the spec_lint gate rejects this spec: ${lint.reasons.join("; ")}`,
      {
        errors: lint.errors,
      },
    );
  }

  // Told in the answer only: `show` works it out afresh while the spec is queued.
  const unserved = unservedReason(advertised(tx, now), input.spec.repo, input.spec.provider);

  let id = newSpecId();
  while (tx.select({ id: specs.id }).from(specs).where(eq(specs.id, id)).get()) id = newSpecId();

  tx.insert(specs)
    .values({
      id,
      title: input.spec.title,
      repo: input.spec.repo,
      provider: input.spec.provider,
      priority: input.spec.priority,
      status: "queued",
      attempt: 0,
      maxAttempt: input.spec.attempts,
      spec: input.spec,
      warnings,
      dedupKey: input.dedupKey,
      createdBy: input.createdBy,
      createdAt: now,
      updatedAt: now,
    })
    .run();
  return {
    id,
    status: "queued",
    title: input.spec.title,
    provider: input.spec.provider,
    position: queuePosition(tx, input.spec.priority, id),
    warnings: unserved ? [...warnings, unservedWarning(unserved)] : warnings,
    lint: lint.lint,
  };
}

export interface ListQuery {
  count: number;
  statuses: SpecStatus[];
  cursor?: string;
}

const rowid = sql<number>`rowid`;

function decodeCursor(cursor: string): number {
  const m = /^c(\d{1,15})$/.exec(cursor);
  if (!m) {
    throw new ApiError(400, "invalid_request", "cursor is not one this API gave out", {
      errors: [{ field: "cursor", message: "use the next_cursor of a previous page" }],
    });
  }
  return Number(m[1]);
}

/**
 * Newest first (dispatch order), paged by rowid. With a status filter each status is read
 * apart, through specs_status_idx, which holds a status's specs in rowid order, and the pages
 * are merged: a page costs `count` rows per status, however many specs have that status
 * (claim-cost.test.ts checks the plan stays so).
 */
export function listSpecs(db: Db, q: ListQuery): SpecList {
  const before = q.cursor ? sql`rowid < ${decodeCursor(q.cursor)}` : undefined;
  const read = (status: SpecStatus | null) =>
    db
      .select({ row: specs, rowid })
      .from(specs)
      .where(and(status === null ? undefined : eq(specs.status, status), before))
      .orderBy(desc(rowid))
      .limit(q.count + 1)
      .all();
  const rows =
    q.statuses.length === 0
      ? read(null)
      : [...new Set(q.statuses)]
          .flatMap(read)
          .sort((a, b) => b.rowid - a.rowid)
          .slice(0, q.count + 1);
  const page = rows.slice(0, q.count);
  // The provider each spec's latest run went to: a primary-key lookup per page.
  const runIds = page.flatMap((r) => (r.row.currentRunId ? [r.row.currentRunId] : []));
  const ranOn = new Map(
    runIds.length
      ? db
          .select({ id: runs.id, provider: runs.provider })
          .from(runs)
          .where(inArray(runs.id, runIds))
          .all()
          .map((r) => [r.id, r.provider])
      : [],
  );
  return {
    specs: page.map((r) => specSummary(r.row, ranOn.get(r.row.currentRunId ?? "") ?? null)),
    next_cursor: rows.length > q.count ? `c${page[page.length - 1].rowid}` : null,
  };
}

export function showSpec(db: Db, id: string, now: number): SpecDetail {
  const s = getSpec(db, id);
  const runRows = db.select().from(runs).where(eq(runs.specId, id)).orderBy(asc(runs.attempt)).all();
  const patches = new Map(
    runRows.length
      ? db
          .select()
          .from(runPatches)
          .where(
            inArray(
              runPatches.runId,
              runRows.map((r) => r.id),
            ),
          )
          .all()
          .map(({ runId, ...p }) => [runId, p])
      : [],
  );
  const detail = specDetail(s, runRows, patches);
  if (s.status === "queued") {
    const unserved = unservedReason(advertised(db, now), s.repo, s.provider);
    if (unserved) detail.warnings = [...detail.warnings, unservedWarning(unserved)];
  }
  return detail;
}

function transitionError(s: SpecRow, action: string, allowed: readonly SpecStatus[]): ApiError {
  return new ApiError(
    409,
    "invalid_transition",
    `cannot ${action} spec ${s.id}: it is ${s.status}; ${action} works on ${allowed.join(", ")}`,
    { status: s.status, allowed },
  );
}

/** Cancels a spec; a leased or running attempt is told to stop at its next heartbeat. */
export function kill(tx: Db, deps: Deps, id: string): SpecSummary {
  const now = deps.now();
  const s = getSpec(tx, id);
  if (!KILLABLE_STATUSES.includes(s.status)) throw transitionError(s, "kill", KILLABLE_STATUSES);
  tx.update(specs)
    .set({ status: "canceled", nextAttemptAt: null, updatedAt: now })
    .where(eq(specs.id, id))
    .run();
  if (s.currentRunId) {
    tx.update(runs)
      .set({ cancel: true })
      .where(and(eq(runs.id, s.currentRunId), inArray(runs.status, ["leased", "running"])))
      .run();
  }
  return summaryOf(tx, getSpec(tx, id));
}

/** Queues a new attempt with a fresh budget of the spec's `attempts`. */
function requeue(tx: Db, now: number, s: SpecRow, feedback: FeedbackEntry[]): void {
  const dup = activeDuplicate(tx, s.dedupKey, s.id);
  if (dup) throw duplicateError(dup);
  tx.update(specs)
    .set({
      status: "queued",
      maxAttempt: s.attempt + s.spec.attempts,
      ...NO_LOST_LEASES,
      nextAttemptAt: null,
      feedback,
      updatedAt: now,
    })
    .where(eq(specs.id, s.id))
    .run();
}

export function retry(tx: Db, deps: Deps, id: string): SpecSummary {
  const s = getSpec(tx, id);
  if (!RETRYABLE_STATUSES.includes(s.status)) throw transitionError(s, "retry", RETRYABLE_STATUSES);
  requeue(tx, deps.now(), s, s.feedback);
  return summaryOf(tx, getSpec(tx, id));
}

const REVIEWABLE: readonly SpecStatus[] = ["awaiting_review", "rejected"];

export function approve(tx: Db, deps: Deps, id: string, body: ApproveRequest, by: string): SpecSummary {
  recordReview(tx, deps.now(), id, "approve", {
    decision: "approved",
    grade: body.grade ?? null,
    note: body.note ?? null,
    by,
  });
  return summaryOf(tx, getSpec(tx, id));
}

export function decline(tx: Db, deps: Deps, id: string, body: DeclineRequest, by: string): SpecSummary {
  const now = deps.now();
  recordReview(tx, now, id, "decline", { decision: "declined", grade: null, note: body.note ?? null, by });
  if (body.retry) {
    const feedback = body.note ? [`The reviewer declined the previous attempt: ${body.note}`] : [];
    requeue(tx, now, getSpec(tx, id), feedback);
  }
  return summaryOf(tx, getSpec(tx, id));
}

function recordReview(
  tx: Db,
  now: number,
  id: string,
  action: "approve" | "decline",
  review: { decision: "approved" | "declined"; grade: string | null; note: string | null; by: string },
): void {
  const s = getSpec(tx, id);
  if (!REVIEWABLE.includes(s.status)) throw transitionError(s, action, REVIEWABLE);
  tx.update(specs)
    .set({
      status: review.decision,
      reviewDecision: review.decision,
      reviewGrade: review.grade,
      reviewNote: review.note,
      reviewBy: review.by,
      reviewAt: now,
      updatedAt: now,
    })
    .where(eq(specs.id, id))
    .run();
}

export function countsByStatus(db: Db): Record<string, number> {
  const rows = db.select({ status: specs.status, n: count() }).from(specs).groupBy(specs.status).all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
