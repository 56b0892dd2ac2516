// Short relative times, so the dashboard and the mtor CLI say "3m ago" the same way.

/** "3m ago", "2h ago", "in 40s"; "-" for no time, the input itself when it is not a date. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const span =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)}m`
        : abs < 86400
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86400)}d`;
  return s >= 0 ? `${span} ago` : `in ${span}`;
}
