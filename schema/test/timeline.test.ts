// The night's timeline picture: lanes per provider slot, a bar per run coloured by outcome,
// shaded periods, the backlog line and legend, and model-written text that cannot break out of
// the SVG. Each picture is parsed as XML, so a broken document fails the test.
import { DOMParser, type Document } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { BAR_COLOURS, barClass, renderTimeline, slotLanes, type TimelineInput } from "../src/timeline";

const T0 = Date.parse("2026-11-20T22:00:00Z");
const min = (m: number) => T0 + m * 60_000;

function night(overrides: Partial<TimelineInput> = {}): TimelineInput {
  return {
    title: "test night",
    since: T0,
    until: min(480),
    providers: [
      { name: "alpha", slots: 2 },
      { name: "beta", slots: 1 },
    ],
    runs: [
      { id: "r1", title: "one", provider: "alpha", start: min(10), end: min(40), outcome: "passed" },
      { id: "r2", title: "two", provider: "alpha", start: min(20), end: min(50), outcome: "rejected" },
      {
        id: "r3",
        title: "three",
        provider: "beta",
        start: min(30),
        end: min(35),
        outcome: "failed",
        failure_kind: "rate_limited",
      },
      {
        id: "r4",
        title: "four",
        provider: "beta",
        start: min(60),
        end: min(90),
        outcome: "failed",
        failure_kind: "timeout",
      },
      { id: "r5", title: "five", provider: "alpha", start: min(400), end: null, outcome: null },
    ],
    periods: [
      { kind: "cooling", provider: "beta", start: min(35), end: min(45) },
      { kind: "breaker", provider: "alpha", start: min(100), end: min(130) },
      { kind: "frozen", provider: null, start: min(200), end: min(210) },
      { kind: "window", provider: null, start: min(300), end: null, detail: "22:00-03:00 UTC" },
      { kind: "budget", provider: "beta", start: min(250), end: min(260) },
    ],
    backlog: [
      { at: T0, awaiting_review: 0 },
      { at: min(40), awaiting_review: 1 },
      { at: min(300), awaiting_review: 0 },
    ],
    backlog_limit: 4,
    ...overrides,
  };
}

function parse(svg: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => errors.push(`${level}: ${msg}`) }).parseFromString(
    svg,
    "image/svg+xml",
  );
  expect(errors).toEqual([]);
  expect(doc.documentElement?.nodeName).toBe("svg");
  return doc;
}

const all = (doc: Document, tag: string) => Array.from(doc.getElementsByTagName(tag));
const withClass = (doc: Document, cls: string) =>
  all(doc, "*").filter((e) => (e.getAttribute("class") ?? "").split(" ").includes(cls));

describe("slotLanes", () => {
  it("gives each provider its slots' lanes and packs overlapping runs into different lanes", () => {
    const lanes = slotLanes(night());
    expect(lanes.map((l) => l.provider)).toEqual(["alpha", "alpha", "beta"]);
    expect(lanes[0]?.runs.map((r) => r.id)).toEqual(["r1", "r5"]);
    expect(lanes[1]?.runs.map((r) => r.id)).toEqual(["r2"]);
    expect(lanes[2]?.runs.map((r) => r.id)).toEqual(["r3", "r4"]);
  });

  it("adds a lane when a provider ran more at once than its slots, and lanes for unknown providers", () => {
    const lanes = slotLanes({
      providers: [{ name: "alpha", slots: 1 }],
      until: min(100),
      runs: [
        { id: "a", title: "a", provider: "alpha", start: min(0), end: min(50), outcome: "passed" },
        { id: "b", title: "b", provider: "alpha", start: min(10), end: min(20), outcome: "passed" },
        { id: "c", title: "c", provider: "gone", start: min(10), end: min(20), outcome: "passed" },
      ],
    });
    expect(lanes.map((l) => [l.provider, l.runs.map((r) => r.id)])).toEqual([
      ["alpha", ["a"]],
      ["alpha", ["b"]],
      ["gone", ["c"]],
    ]);
  });
});

describe("barClass", () => {
  it("tells passed, rejected, each failure family and running apart", () => {
    expect(barClass("passed")).toBe("passed");
    expect(barClass("rejected")).toBe("rejected");
    expect(barClass("failed", "rate_limited")).toBe("rate_limited");
    expect(barClass("failed", "auth")).toBe("provider");
    expect(barClass("failed", "timeout")).toBe("timeout");
    expect(barClass("failed", "lost_lease")).toBe("lost");
    expect(barClass("failed", "git")).toBe("failed");
    expect(barClass(null)).toBe("running");
  });
});

describe("renderTimeline", () => {
  it("draws a lane per slot and a bar per run, coloured by outcome", () => {
    const doc = parse(renderTimeline(night()));
    const bars = withClass(doc, "run");
    expect(bars).toHaveLength(5);
    const colourOf = (cls: string) => withClass(doc, `run-${cls}`).map((b) => b.getAttribute("fill"));
    expect(colourOf("passed")).toEqual([BAR_COLOURS.passed]);
    expect(colourOf("rejected")).toEqual([BAR_COLOURS.rejected]);
    expect(colourOf("rate_limited")).toEqual([BAR_COLOURS.rate_limited]);
    expect(colourOf("timeout")).toEqual([BAR_COLOURS.timeout]);
    expect(colourOf("running")).toEqual([BAR_COLOURS.running]);
    // Three lanes: alpha's two slots and beta's one, labelled by provider and slot.
    const labels = all(doc, "text").map((t) => t.firstChild?.nodeValue);
    expect(labels).toEqual(expect.arrayContaining(["alpha 1", "alpha 2", "beta 1"]));
    // The running bar reaches the right edge; the passed bar sits where its times put it.
    const running = withClass(doc, "run-running")[0]!;
    expect(Number(running.getAttribute("x")) + Number(running.getAttribute("width"))).toBeCloseTo(470, 0);
    const passed = withClass(doc, "run-passed")[0]!;
    expect(Number(passed.getAttribute("x"))).toBeCloseTo(76 + (10 / 480) * 394, 0);
  });

  it("shades every kind of period, a provider's over its lanes and the fleet's over all", () => {
    const doc = parse(renderTimeline(night()));
    for (const kind of ["breaker", "cooling", "frozen", "window", "budget"]) {
      expect(withClass(doc, `period-${kind}`), kind).toHaveLength(1);
    }
    const height = (kind: string) => Number(withClass(doc, `period-${kind}`)[0]?.getAttribute("height"));
    expect(height("breaker")).toBe(28); // alpha's two lanes
    expect(height("cooling")).toBe(14); // beta's one
    expect(height("frozen")).toBe(42); // the whole fleet
    // A period still lasting runs to the right edge and says so.
    const window = withClass(doc, "period-window")[0]!;
    expect(window.textContent).toContain("now");
    expect(window.textContent).toContain("22:00-03:00 UTC");
  });

  it("skips what lies outside the range", () => {
    const doc = parse(
      renderTimeline(
        night({
          runs: [
            { id: "old", title: "old", provider: "alpha", start: min(-90), end: min(-60), outcome: "passed" },
          ],
          periods: [{ kind: "breaker", provider: "alpha", start: min(500), end: min(510) }],
        }),
      ),
    );
    expect(withClass(doc, "run")).toHaveLength(0);
    expect(withClass(doc, "period")).toHaveLength(0);
  });

  it("draws the review backlog as a step line with its limit", () => {
    const doc = parse(renderTimeline(night()));
    const line = withClass(doc, "backlog-line")[0]!;
    const d = line.getAttribute("d") ?? "";
    // Starts at 0, steps up to 1 at 22:40, back to 0 at 03:00, runs to the right edge.
    expect(d.match(/V/g)).toHaveLength(2);
    expect(d.endsWith("H470")).toBe(true);
    expect(withClass(doc, "backlog-limit")).toHaveLength(1);
    const noLimit = parse(renderTimeline(night({ backlog_limit: 0 })));
    expect(withClass(noLimit, "backlog-limit")).toHaveLength(0);
  });

  it("has a legend naming the outcomes drawn, every period kind and the backlog", () => {
    const doc = parse(renderTimeline(night()));
    const legend = withClass(doc, "legend")[0]!.textContent ?? "";
    for (const word of [
      "passed",
      "rejected",
      "rate limited",
      "timeout",
      "running",
      "breaker open",
      "cooling",
      "frozen",
      "outside window",
      "budget reached",
      "awaiting review",
    ]) {
      expect(legend).toContain(word);
    }
    // Outcomes the night did not have are left out.
    expect(legend).not.toContain("lost lease");
  });

  it("scales through its viewBox so it fits a 390 px phone", () => {
    const doc = parse(renderTimeline(night()));
    const [, , w] = (doc.documentElement?.getAttribute("viewBox") ?? "").split(" ").map(Number);
    expect(w).toBe(480);
  });

  it("escapes model-written titles and provider names so nothing breaks out of the SVG", () => {
    const hostile = `</text></title><script>alert(1)</script><a href="javascript:x">&amp;'`;
    const doc = parse(
      renderTimeline(
        night({
          title: hostile,
          providers: [{ name: `p"><script>1</script>`, slots: 1 }],
          runs: [
            {
              id: "r\u0001x",
              title: hostile,
              provider: `p"><script>1</script>`,
              start: min(5),
              end: min(9),
              outcome: "passed",
            },
          ],
          periods: [{ kind: "window", provider: null, start: min(1), end: min(2), detail: hostile }],
        }),
      ),
    );
    expect(all(doc, "script")).toHaveLength(0);
    expect(all(doc, "a")).toHaveLength(0);
    const bar = withClass(doc, "run")[0]!;
    expect(bar.textContent).toContain(hostile);
    expect(all(doc, "title")[0]?.textContent).toBe(hostile);
  });
});
