// Retry backoff after a failed attempt: 1 min, doubling, capped at 30 min, with ±20 % jitter.
export const BACKOFF_FIRST_MS = 60_000;
export const BACKOFF_MAX_MS = 30 * 60_000;

/** `failures` counts this spec's failed attempts so far (1 after the first). */
export function backoffMs(failures: number, random: number): number {
  const base = Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
  return Math.round(Math.min(base * (0.8 + 0.4 * random), BACKOFF_MAX_MS));
}
