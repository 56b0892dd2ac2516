// Shared by the adapters: how a finished process becomes a HarnessResult or a preflight verdict.
import type { Failure } from "@mtor/schema";
import type { ProcessResult } from "./process";
import type { HarnessResult, PreflightResult } from "./types";

export const PREFLIGHT_TIMEOUT_MS = 60_000;

/** Spawn errors, aborts and timeouts: what happened to the process regardless of its output. */
export function processFailure(p: ProcessResult, harness: string, timeoutMs: number): Failure | null {
  if (p.spawnError) return { kind: "harness", message: `cannot start ${harness}: ${p.spawnError}` };
  if (p.aborted) return { kind: "canceled", message: `${harness} was stopped because the run was canceled` };
  if (p.timedOut) {
    return {
      kind: "timeout",
      message: `${harness} did not finish within ${Math.round(timeoutMs / 1000)} s; its process group was killed`,
    };
  }
  return null;
}

export function exitFailure(p: ProcessResult, harness: string): Failure {
  const how = p.exitSignal ? `was killed by ${p.exitSignal}` : `exited with code ${p.exitCode}`;
  const last = p.tail.trim().split("\n").slice(-3).join(" | ").slice(0, 400);
  return { kind: "harness", message: `${harness} ${how}${last ? `: ${last}` : ""}` };
}

export function toResult(
  p: ProcessResult,
  failure: Failure | null,
  extra: Pick<HarnessResult, "usage"> = {},
): HarnessResult {
  return {
    ok: failure === null,
    ...(failure ? { failure } : {}),
    ...extra,
    exitCode: p.exitCode,
    logTail: p.tail,
    durationMs: p.durationMs,
    ...(p.pgid ? { pgid: p.pgid } : {}),
    ...(p.heldMs ? { heldMs: p.heldMs } : {}),
  };
}

/** Normalizes a preflight answer: `ok`, `OK.`, "`ok`" all count; anything else does not. */
export function isOkAnswer(text: string | undefined): boolean {
  if (text === undefined) return false;
  return (
    text
      .trim()
      .replace(/^[`"'*\s]+|[`"'.!*\s]+$/g, "")
      .toLowerCase() === "ok"
  );
}

/**
 * The preflight verdict from a finished probe: a failure of the run becomes `preflight`
 * (a 429 stays `rate_limited` so the control plane cools the provider).
 */
export function preflightVerdict(result: HarnessResult, answer: string | undefined): PreflightResult {
  const durationMs = result.durationMs;
  const f = result.failure;
  if (f) {
    if (f.kind === "rate_limited")
      return { ok: false, failure: { ...f, message: `preflight: ${f.message}` }, durationMs };
    if (f.kind === "canceled") return { ok: false, failure: f, durationMs };
    return {
      ok: false,
      failure: { kind: "preflight", message: `preflight failed: ${f.message}` },
      durationMs,
    };
  }
  if (!isOkAnswer(answer)) {
    const what =
      answer === undefined || answer.trim() === ""
        ? "the model gave an empty answer"
        : `the model answered ${JSON.stringify(answer.trim().slice(0, 200))}`;
    return {
      ok: false,
      failure: { kind: "preflight", message: `preflight failed: asked to reply "ok", ${what}` },
      durationMs,
    };
  }
  return { ok: true, durationMs };
}
