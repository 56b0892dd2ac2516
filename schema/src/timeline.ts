// The picture of a night as plain SVG text: one lane per provider slot, each run a bar coloured
// by how it ended, the periods a provider (or the fleet) was held shaded, and the review backlog
// as a line. A pure function of its input, so the report, the dashboard and the benchmark draw
// the same picture, with no charting code in the browser.

/** What held work back during a period. */
export type TimelinePeriodKind = "breaker" | "cooling" | "frozen" | "window" | "budget";

export interface TimelineRun {
  id: string;
  /** Shown in the bar's tooltip; model-written, so always escaped. */
  title: string;
  provider: string;
  /** Unix ms: the claim. */
  start: number;
  /** Unix ms: the verdict; null while it runs. */
  end: number | null;
  /** passed | rejected | failed; null while it runs. */
  outcome: string | null;
  failure_kind?: string | null;
}

export interface TimelinePeriod {
  kind: TimelinePeriodKind;
  /** The provider it held; null for the whole fleet. */
  provider: string | null;
  start: number;
  /** Null while it lasts. */
  end: number | null;
  detail?: string | null;
}

export interface TimelineInput {
  title: string;
  /** Unix ms: the left and right edges. */
  since: number;
  until: number;
  /** Providers with their configured slots; a provider that ran more at once gets more lanes. */
  providers: { name: string; slots: number }[];
  runs: TimelineRun[];
  periods: TimelinePeriod[];
  /** Specs awaiting review over time, oldest first: each value holds until the next sample. */
  backlog: { at: number; awaiting_review: number }[];
  /** The fleet's backlog limit, drawn as a dashed line; 0 or absent draws none. */
  backlog_limit?: number;
  /** IANA zone for the time labels; UTC when absent. */
  zone?: string;
}

/** How a run ended, as the picture tells them apart. */
export type BarClass =
  | "passed"
  | "rejected"
  | "rate_limited"
  | "provider"
  | "timeout"
  | "lost"
  | "failed"
  | "running";

export const BAR_COLOURS: Record<BarClass, string> = {
  passed: "#2e7d32",
  rejected: "#6a1b9a",
  rate_limited: "#f9a825",
  provider: "#ef6c00",
  timeout: "#c62828",
  lost: "#757575",
  failed: "#ad1457",
  running: "#1e88e5",
};

const BAR_LABELS: Record<BarClass, string> = {
  passed: "passed (review / landed)",
  rejected: "rejected",
  rate_limited: "rate limited",
  provider: "provider / auth / preflight",
  timeout: "timeout",
  lost: "lost lease / canceled",
  failed: "failed (harness, git, other)",
  running: "running",
};

export const PERIOD_COLOURS: Record<TimelinePeriodKind, string> = {
  breaker: "#e53935",
  cooling: "#fbc02d",
  frozen: "#42a5f5",
  window: "#9e9e9e",
  budget: "#8d6e63",
};

const PERIOD_LABELS: Record<TimelinePeriodKind, string> = {
  breaker: "breaker open",
  cooling: "cooling (429)",
  frozen: "frozen",
  window: "outside window",
  budget: "budget reached",
};

const BACKLOG_COLOUR = "#37474f";

/** The bar class of a run from its outcome and failure kind. */
export function barClass(outcome: string | null, failureKind?: string | null): BarClass {
  if (outcome === null) return "running";
  if (outcome === "passed") return "passed";
  if (outcome === "rejected") return "rejected";
  switch (failureKind) {
    case "rate_limited":
      return "rate_limited";
    case "provider":
    case "auth":
    case "preflight":
      return "provider";
    case "timeout":
      return "timeout";
    case "lost_lease":
    case "canceled":
      return "lost";
    default:
      return "failed";
  }
}

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "");
}

export interface Lane {
  provider: string;
  runs: TimelineRun[];
}

/**
 * Packs each provider's runs into lanes, one per slot: a run takes the first lane free at its
 * start. A provider has at least its configured slots' lanes, more when it ran more at once.
 */
export function slotLanes(input: Pick<TimelineInput, "providers" | "runs" | "until">): Lane[] {
  const names = [...new Set([...input.providers.map((p) => p.name), ...input.runs.map((r) => r.provider)])];
  names.sort();
  const lanes: Lane[] = [];
  for (const name of names) {
    const slots = Math.max(1, input.providers.find((p) => p.name === name)?.slots ?? 1);
    const own: { lane: Lane; freeAt: number }[] = [];
    for (let i = 0; i < slots; i++) own.push({ lane: { provider: name, runs: [] }, freeAt: -Infinity });
    const runs = input.runs.filter((r) => r.provider === name).sort((a, b) => a.start - b.start);
    for (const r of runs) {
      let slot = own.find((l) => l.freeAt <= r.start);
      if (!slot) {
        slot = { lane: { provider: name, runs: [] }, freeAt: -Infinity };
        own.push(slot);
      }
      slot.lane.runs.push(r);
      slot.freeAt = r.end ?? input.until;
    }
    lanes.push(...own.map((l) => l.lane));
  }
  return lanes;
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

function clock(ms: number, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(ms));
}

/** "11 Jan 22:00": the header's ends, which may be days apart. */
function dayAndClock(ms: number, zone: string): string {
  const day = new Intl.DateTimeFormat("en-GB", { timeZone: zone, day: "numeric", month: "short" }).format(
    new Date(ms),
  );
  return `${day} ${clock(ms, zone)}`;
}

/** A tick step that puts four to eight labels across the span. */
function tickStep(spanMs: number): number {
  const steps = [15, 30, 60, 120, 180, 240, 360, 720, 1440].map((m) => m * 60_000);
  return steps.find((s) => spanMs / s <= 8) ?? steps[steps.length - 1]!;
}

/**
 * The night as an SVG document. It scales to its container through its viewBox, and is sized for
 * a phone: 480 units wide, so at 390 px its text is about nine pixels high.
 */
export function renderTimeline(input: TimelineInput): string {
  const zone = input.zone ?? "UTC";
  const since = input.since;
  const until = Math.max(input.until, since + 60_000);
  const lanes = slotLanes({ ...input, until });
  const W = 480;
  const pad = { l: 76, r: 10, t: 24 };
  const laneH = 14;
  const lanesTop = pad.t;
  const lanesH = Math.max(1, lanes.length) * laneH;
  const axisY = lanesTop + lanesH;
  const backlogTop = axisY + 30;
  const backlogH = 44;
  const backlogBottom = backlogTop + backlogH;
  const legendTop = backlogBottom + 16;
  const plotW = W - pad.l - pad.r;
  const x = (ms: number) =>
    pad.l + ((Math.min(Math.max(ms, since), until) - since) / (until - since)) * plotW;

  const out: string[] = [];
  const text = (tx: number, ty: number, s: string, attrs = "") =>
    out.push(`<text x="${fmt(tx)}" y="${fmt(ty)}"${attrs}>${escapeXml(s)}</text>`);

  // Lane labels and guides.
  const firstLane = new Map<string, number>();
  const laneCount = new Map<string, number>();
  lanes.forEach((lane, i) => {
    if (!firstLane.has(lane.provider)) firstLane.set(lane.provider, i);
    laneCount.set(lane.provider, (laneCount.get(lane.provider) ?? 0) + 1);
  });
  out.push(`<g class="lanes">`);
  lanes.forEach((lane, i) => {
    const top = lanesTop + i * laneH;
    out.push(
      `<rect x="${pad.l}" y="${top}" width="${plotW}" height="${laneH}" fill="${i % 2 ? "#fafafa" : "#f0f0f0"}"/>`,
    );
    const slot = i - (firstLane.get(lane.provider) ?? 0) + 1;
    const name = lane.provider.length > 9 ? `${lane.provider.slice(0, 8)}…` : lane.provider;
    out.push(
      `<g class="lane-label"><title>${escapeXml(`${lane.provider}, slot ${slot}`)}</title><text x="${pad.l - 4}" y="${top + laneH - 3}" text-anchor="end">${escapeXml(`${name} ${slot}`)}</text></g>`,
    );
  });
  if (lanes.length === 0) text(pad.l + 4, lanesTop + laneH - 3, "no providers", ' fill="#757575"');
  out.push("</g>");

  // Shaded periods: a provider's over its lanes, the fleet's over all of them.
  out.push(`<g class="periods">`);
  for (const p of input.periods) {
    const end = p.end ?? until;
    if (end < since || p.start > until) continue;
    let top = lanesTop;
    let height = lanesH;
    if (p.provider !== null) {
      const first = firstLane.get(p.provider);
      if (first === undefined) continue;
      top = lanesTop + first * laneH;
      height = (laneCount.get(p.provider) ?? 1) * laneH;
    }
    const x0 = x(p.start);
    const width = Math.max(1, x(end) - x0);
    const who = p.provider ?? "whole fleet";
    const detail = p.detail ? ` (${p.detail})` : "";
    out.push(
      `<rect class="period period-${p.kind}" x="${fmt(x0)}" y="${top}" width="${fmt(width)}" height="${height}" fill="${PERIOD_COLOURS[p.kind]}" fill-opacity="0.35"><title>${escapeXml(`${PERIOD_LABELS[p.kind]}: ${who}${detail}, ${clock(p.start, zone)}–${p.end === null ? "now" : clock(p.end, zone)}`)}</title></rect>`,
    );
  }
  out.push("</g>");

  // Runs.
  out.push(`<g class="runs">`);
  const used = new Set<BarClass>();
  lanes.forEach((lane, i) => {
    const top = lanesTop + i * laneH;
    for (const r of lane.runs) {
      const end = r.end ?? until;
      if (end < since || r.start > until) continue;
      const cls = barClass(r.outcome, r.failure_kind);
      used.add(cls);
      const x0 = x(r.start);
      const width = Math.max(1.5, x(end) - x0);
      const how =
        r.outcome === null ? "running" : r.failure_kind ? `${r.outcome}: ${r.failure_kind}` : r.outcome;
      out.push(
        `<rect class="run run-${cls}" x="${fmt(x0)}" y="${top + 2}" width="${fmt(width)}" height="${laneH - 4}" fill="${BAR_COLOURS[cls]}"><title>${escapeXml(`${r.title} (${r.id}): ${how}, ${clock(r.start, zone)}–${r.end === null ? "now" : clock(r.end, zone)}`)}</title></rect>`,
      );
    }
  });
  out.push("</g>");

  // Time axis.
  out.push(`<g class="axis">`);
  out.push(`<line x1="${pad.l}" y1="${axisY}" x2="${W - pad.r}" y2="${axisY}" stroke="#444"/>`);
  const step = tickStep(until - since);
  for (let t = Math.ceil(since / step) * step; t <= until; t += step) {
    out.push(`<line x1="${fmt(x(t))}" y1="${axisY}" x2="${fmt(x(t))}" y2="${axisY + 3}" stroke="#444"/>`);
    text(x(t), axisY + 13, clock(t, zone), ' text-anchor="middle"');
  }
  out.push("</g>");

  // The review backlog as a step line.
  const samples = input.backlog.filter((s) => s.at <= until);
  const limit = input.backlog_limit ?? 0;
  const top = Math.max(1, limit, ...samples.map((s) => s.awaiting_review));
  const y = (n: number) => backlogBottom - (n / top) * backlogH;
  out.push(`<g class="backlog">`);
  out.push(
    `<line x1="${pad.l}" y1="${backlogBottom}" x2="${W - pad.r}" y2="${backlogBottom}" stroke="#bbb"/>`,
  );
  text(pad.l, backlogTop - 4, "awaiting review");
  text(pad.l - 4, backlogTop + 4, String(top), ' text-anchor="end"');
  text(pad.l - 4, backlogBottom, "0", ' text-anchor="end"');
  if (limit > 0) {
    out.push(
      `<line class="backlog-limit" x1="${pad.l}" y1="${fmt(y(limit))}" x2="${W - pad.r}" y2="${fmt(y(limit))}" stroke="#c62828" stroke-dasharray="4 3"><title>${escapeXml(`backlog limit ${limit}`)}</title></line>`,
    );
  }
  if (samples.length > 0) {
    let d = `M${fmt(x(samples[0]!.at))},${fmt(y(samples[0]!.awaiting_review))}`;
    for (const s of samples.slice(1)) d += ` H${fmt(x(s.at))} V${fmt(y(s.awaiting_review))}`;
    d += ` H${fmt(x(until))}`;
    const last = samples[samples.length - 1]!.awaiting_review;
    out.push(
      `<path class="backlog-line" d="${d}" fill="none" stroke="${BACKLOG_COLOUR}" stroke-width="1.5"><title>${escapeXml(`awaiting review: ${last} at the end`)}</title></path>`,
    );
  }
  out.push("</g>");

  // Legend: what the picture uses first, then the rest, wrapped to the width.
  const items: { swatch: string; label: string }[] = [];
  const classes = (Object.keys(BAR_COLOURS) as BarClass[]).filter((c) => used.has(c));
  for (const c of classes)
    items.push({
      swatch: `<rect width="9" height="9" y="-8" fill="${BAR_COLOURS[c]}"/>`,
      label: BAR_LABELS[c],
    });
  for (const k of Object.keys(PERIOD_COLOURS) as TimelinePeriodKind[])
    items.push({
      swatch: `<rect width="9" height="9" y="-8" fill="${PERIOD_COLOURS[k]}" fill-opacity="0.35" stroke="${PERIOD_COLOURS[k]}"/>`,
      label: PERIOD_LABELS[k],
    });
  items.push({
    swatch: `<line x1="0" y1="-4" x2="9" y2="-4" stroke="${BACKLOG_COLOUR}" stroke-width="1.5"/>`,
    label: "awaiting review",
  });
  out.push(`<g class="legend">`);
  let lx = 6;
  let ly = legendTop;
  for (const item of items) {
    const w = 16 + item.label.length * 5.6 + 10;
    if (lx + w > W - 4) {
      lx = 6;
      ly += 14;
    }
    out.push(
      `<g transform="translate(${fmt(lx)} ${ly})">${item.swatch}<text x="13" y="0">${escapeXml(item.label)}</text></g>`,
    );
    lx += w;
  }
  out.push("</g>");
  const H = ly + 10;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="10" role="img">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad.l}" y="14" font-size="11">${escapeXml(`${input.title} · ${dayAndClock(since, zone)} – ${dayAndClock(until, zone)} ${zone}`)}</text>`,
    ...out,
    "</svg>",
    "",
  ].join("\n");
}
