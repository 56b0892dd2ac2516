// The benchmark's pictures as plain SVG text: landed specs over the night (one line per policy)
// and one night's slot timeline coloured by how each run ended.
import type { NightRun } from "./night";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export interface LandedSeries {
  label: string;
  colour: string;
  /** Night-minute of each landing, sorted. */
  landedAt: number[];
}

/** Cumulative landed specs against the night's clock, one step line per series. */
export function landedChart(
  title: string,
  windowMin: number,
  startsAt: string,
  series: LandedSeries[],
): string {
  const w = 640;
  const h = 320;
  const pad = { l: 48, r: 16, t: 32, b: 40 };
  const maxY = Math.max(1, ...series.map((s) => s.landedAt.length));
  const x = (min: number) => pad.l + (min / windowMin) * (w - pad.l - pad.r);
  const y = (n: number) => h - pad.b - (n / maxY) * (h - pad.t - pad.b);
  const [hh, mm] = startsAt.split(":").map(Number) as [number, number];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${pad.l}" y="20" font-size="14">${esc(title)}</text>`,
    `<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#444"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${h - pad.b}" stroke="#444"/>`,
  ];
  for (let m = 0; m <= windowMin; m += 60) {
    const label = `${String((hh + Math.floor((mm + m) / 60)) % 24).padStart(2, "0")}:${String((mm + m) % 60).padStart(2, "0")}`;
    out.push(`<text x="${x(m)}" y="${h - pad.b + 16}" text-anchor="middle">${label}</text>`);
  }
  for (let n = 0; n <= maxY; n += Math.max(1, Math.ceil(maxY / 5))) {
    out.push(`<text x="${pad.l - 6}" y="${y(n) + 4}" text-anchor="end">${n}</text>`);
  }
  out.push(
    `<text x="12" y="${(pad.t + h - pad.b) / 2}" transform="rotate(-90 12 ${(pad.t + h - pad.b) / 2})" text-anchor="middle">landed specs</text>`,
  );
  series.forEach((s, i) => {
    let d = `M${x(0)},${y(0)}`;
    s.landedAt.forEach((m, k) => {
      d += ` H${x(m).toFixed(1)} V${y(k + 1).toFixed(1)}`;
    });
    d += ` H${x(windowMin)}`;
    out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    out.push(
      `<rect x="${pad.l + 10}" y="${pad.t + 6 + i * 16}" width="12" height="3" fill="${s.colour}"/>`,
      `<text x="${pad.l + 28}" y="${pad.t + 10 + i * 16}">${esc(s.label)} (${s.landedAt.length})</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

export const OUTCOME_COLOURS: Record<string, string> = {
  passed: "#2e7d32",
  preflight: "#ef6c00",
  provider: "#ef6c00",
  rate_limited: "#f9a825",
  timeout: "#c62828",
  lost_lease: "#757575",
  rejected: "#6a1b9a",
  unfinished: "#90a4ae",
};

/** Each provider slot a lane; a run drawn from its claim to its end, coloured by outcome. */
export function slotTimeline(title: string, windowMin: number, runs: NightRun[]): string {
  const providers = [...new Set(runs.map((r) => r.provider))].sort();
  const lanes: { provider: string; freeAt: number; runs: NightRun[] }[] = [];
  for (const r of [...runs].sort((a, b) => a.from_min - b.from_min)) {
    let lane = lanes.find((l) => l.provider === r.provider && l.freeAt <= r.from_min);
    if (!lane) {
      lane = { provider: r.provider, freeAt: 0, runs: [] };
      lanes.push(lane);
    }
    lane.runs.push(r);
    lane.freeAt = r.to_min;
  }
  lanes.sort((a, b) => providers.indexOf(a.provider) - providers.indexOf(b.provider));
  const w = 720;
  const laneH = 18;
  const pad = { l: 90, r: 16, t: 32, b: 56 };
  const h = pad.t + lanes.length * laneH + pad.b;
  const x = (min: number) => pad.l + (min / windowMin) * (w - pad.l - pad.r);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${pad.l}" y="20" font-size="14">${esc(title)}</text>`,
  ];
  lanes.forEach((lane, i) => {
    const top = pad.t + i * laneH;
    out.push(`<text x="${pad.l - 6}" y="${top + 13}" text-anchor="end">${esc(lane.provider)}</text>`);
    for (const r of lane.runs) {
      const colour = OUTCOME_COLOURS[r.outcome] ?? "#5c6bc0";
      const width = Math.max(1, x(r.to_min) - x(r.from_min));
      out.push(
        `<rect x="${x(r.from_min).toFixed(1)}" y="${top + 2}" width="${width.toFixed(1)}" height="${laneH - 4}" fill="${colour}"><title>spec ${r.spec}: ${esc(r.outcome)} ${r.from_min}–${r.to_min} min</title></rect>`,
      );
    }
  });
  const legendY = pad.t + lanes.length * laneH + 24;
  const used = [...new Set(runs.map((r) => r.outcome))];
  used.forEach((o, i) => {
    out.push(
      `<rect x="${pad.l + i * 100}" y="${legendY - 9}" width="10" height="10" fill="${OUTCOME_COLOURS[o] ?? "#5c6bc0"}"/>`,
      `<text x="${pad.l + i * 100 + 14}" y="${legendY}">${esc(o)}</text>`,
    );
  });
  out.push(
    `<text x="${pad.l}" y="${legendY + 20}">night-minutes 0–${windowMin}; one lane per provider slot</text>`,
  );
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
