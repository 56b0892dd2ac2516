// The night's one slot-time formula (bench/slot-time.ts), on hand-made run records: what counts
// as available, useful, lost and idle, the same for both policies.
import type { SpecDetail } from "@mtor/schema";
import { describe, expect, it } from "vitest";
import type { NightProfile } from "../../../bench/profiles";
import { accountSlots, idleReason, outages } from "../../../bench/slot-time";

// Two providers of one slot each over a 100-minute window; `down` is out from 50 to the end.
const profile: NightProfile = {
  name: "seed-night",
  windowMin: 100,
  startsAt: "23:00",
  specs: 3,
  durationMin: [20, 20],
  providers: [
    { name: "up", slots: 1 },
    { name: "down", slots: 1, preflightFailRate: 1, preflightFailFromMin: 50, preflightFailUntilMin: 100 },
  ],
  killAtMin: null,
  loopSpecs: [],
  deleteSpecs: [],
  seed: 1,
};

const at = (min: number) => new Date(min * 60_000).toISOString();
type Run = {
  provider: string;
  from: number;
  to: number | null;
  outcome: "passed" | "failed";
  kind?: string;
  /** When the preflight passed (the run's started_at); none given: at the claim. */
  started?: number;
};

function spec(id: string, status: string, runs: Run[]): SpecDetail {
  return {
    id,
    status,
    runs: runs.map((r) => ({
      provider: r.provider,
      executor: "ex",
      claimed_at: at(r.from),
      started_at: at(r.started ?? r.from),
      finished_at: r.to === null ? null : at(r.to),
      outcome: r.to === null ? null : r.outcome,
      failure: r.kind ? { kind: r.kind, message: r.kind } : null,
    })),
  } as unknown as SpecDetail;
}

describe("the night's slot-time account", () => {
  it("leaves a provider's outage out of the available time, keeps what a run did usefully in it, and splits idle by the samples", () => {
    const details = [
      // Passed on `up`, ending after the window (in the drain): its window share is useful, it did not land.
      spec("a", "awaiting_review", [
        { provider: "up", from: 0, to: 30, outcome: "passed" },
        { provider: "up", from: 80, to: 110, outcome: "passed" },
      ]),
      // Started on `down` before its break and passed inside it: useful, and so available.
      spec("b", "awaiting_review", [{ provider: "down", from: 40, to: 60, outcome: "passed" }]),
      // A failed preflight on `down` during the break: neither available nor lost.
      spec("c", "queued", [
        { provider: "down", from: 70, to: 90, outcome: "failed", kind: "preflight" },
        { provider: "up", from: 40, to: 50, outcome: "failed", kind: "timeout" },
      ]),
    ];
    const index = new Map(details.map((d, i) => [d.id, i]));
    const a = accountSlots({
      profile,
      durations: [20, 20, 20],
      details,
      index,
      toMin: (iso) => Date.parse(iso) / 60_000,
      idleSamples: { "idle: breaker open": 3, "idle: free, not yet claimed": 1 },
    });
    expect(outages(profile).get("down")).toEqual([[50, 100]]);
    expect(a.all).toBe(200);
    // 200 slot-min, less 50 of `down`'s break, plus the 10 minutes b ran usefully in it.
    expect(a.available).toBe(160);
    // a: 30 + 20 (its window share); b: 20.
    expect(a.useful).toBe(70);
    expect(a.landedAt).toEqual([30, 60]);
    expect(a.wasted["run timeout"]).toBe(10);
    expect(a.wasted["run preflight"]).toBeUndefined();
    // Idle: `up` 100 − 30 − 20 − 10 = 40, `down` before its break 50 − 10 (b) = 40; split 3 : 1.
    expect(a.wasted["idle: breaker open"]).toBeCloseTo(60);
    expect(a.wasted["idle: free, not yet claimed"]).toBeCloseTo(20);
    const lost = Object.values(a.wasted).reduce((x, y) => x + y, 0);
    expect(a.useful + lost).toBeCloseTo(a.available);
  });

  it("counts a run's time inside an outage as useful only once its preflight had passed", () => {
    // One slot; a 429 storm from 20 to 60.
    const storm: NightProfile = {
      ...profile,
      providers: [{ name: "storm", slots: 1, rateLimitFromMin: 20, rateLimitUntilMin: 60 }],
    };
    const details = [
      // Past its preflight at 5, before the storm: all of it is useful, its 5 minutes in the storm too.
      spec("a", "awaiting_review", [{ provider: "storm", from: 0, started: 5, to: 25, outcome: "passed" }]),
      // Claimed in the storm, retrying its preflight until the storm ended at 60: those 30 minutes
      // were not useful work.
      spec("b", "awaiting_review", [{ provider: "storm", from: 30, started: 60, to: 90, outcome: "passed" }]),
    ];
    const a = accountSlots({
      profile: storm,
      durations: [20, 20],
      details,
      index: new Map(details.map((d, i) => [d.id, i])),
      toMin: (iso) => Date.parse(iso) / 60_000,
      idleSamples: { "idle: free, not yet claimed": 1 },
    });
    expect(a.all).toBe(100);
    // 100 less the storm's 40, plus a's 5 useful minutes in it.
    expect(a.available).toBe(65);
    // a: 25; b: 60 less the 30 it waited in the storm.
    expect(a.useful).toBe(55);
    expect(a.task).toBe(40);
    // Idle outside the storm: 60 − 20 (a) − 30 (b) = 10.
    expect(a.wasted["idle: free, not yet claimed"]).toBeCloseTo(10);
    const lost = Object.values(a.wasted).reduce((x, y) => x + y, 0);
    expect(a.useful + lost).toBeCloseTo(a.available);
  });

  it("names why a free slot was free, first match wins", () => {
    const view = {
      name: "p",
      slots: 2,
      effective_slots: 2,
      in_use: 0,
      enabled: true,
      harness: null,
      model: null,
      breaker: { state: "closed", consecutive_failures: 0, open_until: null },
      cooling: false,
      cooling_until: null,
      frozen: false,
      recent_outcomes: [],
      queued: 0,
    } as unknown as Parameters<typeof idleReason>[0];
    expect(idleReason(view, 2)).toBe("idle: free, not yet claimed");
    expect(idleReason(view, 0)).toBe("idle: no executor slot free");
    expect(idleReason({ ...view, effective_slots: 1, in_use: 1 }, 2)).toBe("idle: slots halved by bad runs");
    expect(idleReason({ ...view, breaker: { ...view.breaker, state: "open" } }, 2)).toBe(
      "idle: breaker open",
    );
    expect(idleReason({ ...view, cooling: true, breaker: { ...view.breaker, state: "open" } }, 2)).toBe(
      "idle: cooling after a 429",
    );
  });
});
