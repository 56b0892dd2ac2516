// Turns what a harness said about a failed provider call into the verdict's failure.kind.
import type { Failure } from "@mtor/schema";

/** retry-after used when a 429 does not say how long to wait. */
export const DEFAULT_RETRY_AFTER_S = 60;

const RETRY_AFTER_MS = /retry[- _]?after[- _]?ms[^0-9]{0,6}(\d{1,9})/i;
const RETRY_AFTER = /retry[- _]?after[^0-9]{0,12}(\d{1,6})(\s*(?:ms|milliseconds)\b)?/i;

function retryAfterFrom(text: string): number {
  const ms = RETRY_AFTER_MS.exec(text);
  if (ms) return Math.min(86400, Math.ceil(Number(ms[1]) / 1000));
  const m = RETRY_AFTER.exec(text);
  if (!m) return DEFAULT_RETRY_AFTER_S;
  const n = Number(m[1]);
  return Math.min(86400, m[2] ? Math.ceil(n / 1000) : n);
}

function clip(text: string, max = 500): string {
  const t = text.trim().replace(/\s+/g, " ");
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * Claude Code started without a key answers "Not logged in · Please run /login", which reads
 * like something to do at a terminal. Say what it means: the provider's key never arrived.
 */
export function classifyMissingKey(text: string, provider: string): Failure | null {
  if (!/not logged in|please run \/login/i.test(text)) return null;
  return { kind: "auth", message: `provider ${provider}: no API key (token_env unset)` };
}

/**
 * Classifies a provider-side error from an HTTP status (when the harness reports one) and the
 * error text. Returns null when nothing points at the provider.
 */
export function classifyProviderError(text: string, status?: number | null): Failure | null {
  const s = status ?? undefined;
  const msg = clip(text);
  if (s === 429 || (s === undefined && /\b429\b|rate[ _-]?limit|too many requests/i.test(text))) {
    return {
      kind: "rate_limited",
      message: `provider answered 429 rate limited: ${msg}`,
      retry_after_s: retryAfterFrom(text),
    };
  }
  if (
    s === 401 ||
    s === 403 ||
    (s === undefined &&
      /\b40[13]\b|authentication_error|permission_error|invalid (x-)?api[ -]?key|unauthori[sz]ed|forbidden/i.test(
        text,
      ))
  ) {
    return { kind: "auth", message: `provider refused the credentials (${s ?? "401/403"}): ${msg}` };
  }
  if (s === 529 || (s === undefined && /\b529\b|overloaded/i.test(text))) {
    return { kind: "provider", message: `provider answered 529 overloaded: ${msg}` };
  }
  if (
    (s !== undefined && s >= 500) ||
    (s === undefined && /\b5\d\d\b.*error|api_error|internal server error/i.test(text))
  ) {
    return { kind: "provider", message: `provider answered ${s ?? "5xx"}: ${msg}` };
  }
  if (
    /ECONNREFUSED|connection refused|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed|unable to connect|connection error/i.test(
      text,
    )
  ) {
    return { kind: "provider", message: `cannot reach the provider: ${msg}` };
  }
  return null;
}
