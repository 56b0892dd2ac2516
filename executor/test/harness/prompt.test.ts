// The run prompt and the preflight prompt.
import { describe, expect, it } from "vitest";
import { buildPreflightPrompt, buildPrompt, PREFLIGHT_PROMPT } from "../../src/prompt";

describe("buildPrompt", () => {
  const spec = {
    title: "Throttle dispatch",
    body: "Throttle dispatch when runs fail.\n\n<!-- mtor-demo: default -->\n",
    targets: ["src/dispatch.ts", "src/slots.ts"],
    tests: ["test_throttle_backoff", "test_throttle_recovers"],
    stop: "Stop after these 2 tests. Do not add more.",
  };

  it("puts the body, targets, tests, rules, stop condition and feedback in that order", () => {
    const p = buildPrompt(spec, [
      "tests_extra: added 3 tests not named in the spec",
      "destruction: dispatch() was emptied",
    ]);
    const order = [
      "Throttle dispatch when runs fail.",
      "<!-- mtor-demo: default -->",
      "Targets:\n- src/dispatch.ts\n- src/slots.ts",
      "Tests to add:\n- test_throttle_backoff\n- test_throttle_recovers",
      "Rules:",
      "Stop condition: Stop after these 2 tests. Do not add more.",
      "Feedback from the previous attempt (fix these):\n- tests_extra: added 3 tests not named in the spec\n- destruction: dispatch() was emptied",
    ].map((s) => p.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("states every fixed rule", () => {
    const p = buildPrompt(spec);
    expect(p).toContain("Work on the current branch");
    expect(p).toContain("Commit your work");
    expect(p).toContain("Never push");
    expect(p).toContain("Never touch other branches");
    expect(p).toContain("Do not delete or replace existing functions, methods or classes unless");
    expect(p).toContain("Add exactly the tests named above and no others.");
    expect(p).not.toContain("Feedback from the previous attempt");
  });

  it("keeps the stop condition verbatim and leaves out lists the spec does not have", () => {
    const p = buildPrompt({
      body: "Just tidy the README.",
      targets: [],
      stop: "Stop  when   README is tidy.",
    });
    expect(p).toContain("Stop condition: Stop  when   README is tidy.");
    expect(p).not.toContain("Targets:");
    expect(p).not.toContain("Tests to add:");
    expect(p).not.toContain("Add exactly the tests");
  });

  it("adds the title only when the body does not already carry it", () => {
    expect(
      buildPrompt({ title: "Tidy", body: "Make it neat.", targets: [] }).startsWith(
        "# Tidy\n\nMake it neat.",
      ),
    ).toBe(true);
    expect(
      buildPrompt({ title: "Tidy", body: "# Tidy\nMake it neat.", targets: [] }).startsWith(
        "# Tidy\nMake it neat.",
      ),
    ).toBe(true);
  });
});

describe("preflight prompt", () => {
  it("asks for exactly ok and carries a spec's demo directive", () => {
    expect(PREFLIGHT_PROMPT).toMatch(/exactly .*ok/);
    expect(buildPreflightPrompt()).toBe(PREFLIGHT_PROMPT);
    expect(buildPreflightPrompt("Fix it.")).toBe(PREFLIGHT_PROMPT);
    expect(buildPreflightPrompt("Fix it.\n<!-- mtor-demo: error_529 -->")).toBe(
      `${PREFLIGHT_PROMPT}\n\n<!-- mtor-demo: error_529 -->`,
    );
  });
});
