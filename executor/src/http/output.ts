// Plain-text rendering for people: aligned tables, short times, one status glyph per state.
export { ago } from "@mtor/schema/format";

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-align (numbers). */
  right?: boolean;
  /** May be shortened to fit the terminal. */
  flex?: boolean;
}

/** Renders rows as an aligned table; flexible columns shrink to fit `width`. */
export function table<T>(rows: readonly T[], columns: Column<T>[], width = 120): string {
  const cells = rows.map((r) => columns.map((c) => oneLine(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const total = widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  let over = total - width;
  for (let i = columns.length - 1; i >= 0 && over > 0; i--) {
    if (!columns[i].flex) continue;
    const cut = Math.min(over, widths[i] - Math.max(columns[i].header.length, 12));
    if (cut > 0) {
      widths[i] -= cut;
      over -= cut;
    }
  }
  const fmt = (row: string[]) =>
    row
      .map((cell, i) => {
        const w = widths[i];
        const text = cell.length > w ? `${cell.slice(0, Math.max(0, w - 1))}…` : cell;
        return columns[i].right ? text.padStart(w) : text.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  return [fmt(columns.map((c) => c.header)), ...cells.map(fmt)].join("\n");
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export function diffstat(
  d: { files: number; insertions: number; deletions: number } | null | undefined,
): string {
  if (!d) return "-";
  return `${d.files} file${d.files === 1 ? "" : "s"} +${d.insertions} -${d.deletions}`;
}

export function flagList(flags: readonly { gate: string; action: string }[] | null | undefined): string {
  if (!flags || flags.length === 0) return "";
  return flags.map((f) => (f.action === "review" ? `${f.gate}?` : f.gate)).join(",");
}
