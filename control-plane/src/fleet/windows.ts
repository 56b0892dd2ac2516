// Run windows: "22:00-06:00" in an IANA zone. Pure functions of the clock, so tests drive them
// with the Fleet's injected clock.
import type { RunWindow, WindowView } from "@mtor/schema/wire";
import { iso } from "../core/clock";

const DAY = 24 * 60;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight in `zone` at `now`. */
function localMinutes(now: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(now));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/**
 * Whether the window is open at `now`, and when it next opens or closes. Across a daylight
 * saving change the next change may be off by the hour the clocks moved.
 */
export function windowAt(w: RunWindow, now: number): WindowView {
  const start = minutesOf(w.window.slice(0, 5));
  const end = minutesOf(w.window.slice(6));
  const m = localMinutes(now, w.zone);
  const open = start < end ? m >= start && m < end : m >= start || m < end;
  const until = open ? (end - m + DAY) % DAY || DAY : (start - m + DAY) % DAY || DAY;
  const minuteStart = now - (now % 60_000);
  return { ...w, open, next_change: iso(minuteStart + until * 60_000) };
}

/** Applies a window update (`window: null` removes it) to the window there is. */
export function nextWindow(
  current: RunWindow | null,
  update: { window?: string | null; window_zone?: string; window_fit?: boolean },
): RunWindow | null {
  if (update.window === null) return null;
  const window = update.window ?? current?.window;
  if (!window) return null;
  return {
    window,
    zone: update.window_zone ?? current?.zone ?? "UTC",
    fit: update.window_fit ?? current?.fit ?? false,
  };
}

const DAY_MS = DAY * 60_000;
/** Without a window a night is the last 24 hours, and "until morning" the next 12. */
export const ROLLING_NIGHT_MS = DAY_MS;
export const MORNING_WITHOUT_WINDOW_MS = 12 * 3600_000;

/**
 * The night a spend budget counts over at `now`: from the window's latest opening (the one open
 * now, or the last one while it is closed), or the last 24 h without a window. `morning` is when
 * a "resume until morning" or a raise ends: the window's close while it is open, its next
 * opening while closed (a new night starts then anyway), or 12 hours on without a window.
 */
export function nightOf(w: RunWindow | null, now: number): { start: number; morning: number } {
  if (!w) return { start: now - ROLLING_NIGHT_MS, morning: now + MORNING_WITHOUT_WINDOW_MS };
  const view = windowAt(w, now);
  const next = Date.parse(view.next_change);
  const length = ((minutesOf(w.window.slice(6)) - minutesOf(w.window.slice(0, 5)) + DAY) % DAY) * 60_000;
  return { start: view.open ? next - length : next - DAY_MS, morning: next };
}
