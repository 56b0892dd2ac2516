// Rows to wire views (ISO times, snake_case fields).
import { formatDuration } from "@mtor/schema/spec";
import type { runs, specs } from "@mtor/schema/tables/fleet";
import type { RunPatch, RunView, SpecDetail, SpecSummary } from "@mtor/schema/wire";
import { iso, isoOrNull } from "../core/clock";

export type SpecRow = typeof specs.$inferSelect;
export type RunRow = typeof runs.$inferSelect;

export function specSummary(s: SpecRow, runProvider: string | null = null): SpecSummary {
  return {
    id: s.id,
    title: s.title,
    repo: s.repo,
    status: s.status,
    provider: s.provider,
    run_provider: runProvider,
    attempt: s.attempt,
    max_attempt: s.maxAttempt,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
    outcome: s.outcome,
    flags: s.flags,
  };
}

export function runView(r: RunRow, patch: RunPatch | null = null): RunView {
  return {
    id: r.id,
    attempt: r.attempt,
    executor: r.executorId,
    provider: r.provider,
    status: r.status as RunView["status"],
    phase: r.phase,
    claimed_at: iso(r.claimedAt),
    started_at: isoOrNull(r.startedAt),
    finished_at: isoOrNull(r.finishedAt),
    outcome: r.outcome,
    flags: r.flags,
    branch: r.branch,
    base_sha: r.baseSha,
    head_sha: r.headSha,
    commits: r.commits,
    diffstat: r.diffstat ?? null,
    usage: r.usage ?? null,
    cost_usd: r.costUsd,
    cost_source: r.costSource as "reported" | "price" | "fallback" | null,
    review: r.review ?? null,
    duration_ms: r.durationMs,
    failure: r.failure ?? null,
    log_tail: r.logTail,
    patch,
  };
}

export function specDetail(
  s: SpecRow,
  runRows: RunRow[],
  patches: ReadonlyMap<string, RunPatch> = new Map(),
): SpecDetail {
  const { body, ...frontMatter } = s.spec;
  return {
    ...specSummary(s, runRows.find((r) => r.id === s.currentRunId)?.provider ?? null),
    front_matter: { ...frontMatter, timeout: formatDuration(frontMatter.timeout_s) },
    body,
    warnings: s.warnings,
    next_attempt_at: isoOrNull(s.nextAttemptAt),
    runs: runRows.map((r) => runView(r, patches.get(r.id) ?? null)),
    review:
      s.reviewDecision && s.reviewBy && s.reviewAt !== null
        ? {
            decision: s.reviewDecision as "approved" | "declined",
            grade: s.reviewGrade,
            note: s.reviewNote,
            by: s.reviewBy,
            at: iso(s.reviewAt),
          }
        : null,
  };
}
