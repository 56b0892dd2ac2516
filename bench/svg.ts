// The benchmark's landed-specs picture as plain SVG text: landed specs over the night, one line
// per policy. The slot timeline is the report's own (GET /v1/report?format=svg, bench/night.ts).

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
