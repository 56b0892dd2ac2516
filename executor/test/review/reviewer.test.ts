// The reviewer against the demo provider playing it: scripted grades, a malformed answer (twice
// and once), a timeout and a 529. A failing reviewer never blocks a run; a grade below the
// minimum rejects it with flag `review` and the findings as detail.
import { DEFAULT_GATES } from "@mtor/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { feedbackFor } from "../../src/gates";
import {
  belowMin,
  ReviewBreaker,
  type ReviewerConfig,
  reviewAfterGates,
  truncateDiff,
} from "../../src/review";
import { cleanupRepos, TestRepo } from "../gates/repo";

let demo: DemoProvider;
let repo: TestRepo;
let mergeBase: string;
let headSha: string;

beforeAll(async () => {
  demo = await startDemoProvider();
  repo = await TestRepo.create({
    "src/pick.ts": "export function pick(n: number): number {\n  return n;\n}\n",
  });
  mergeBase = await repo.sha("main");
  await repo.branch("work");
  headSha = await repo.commit("jitter", {
    "src/pick.ts": "export function pick(n: number, jitter = 0): number {\n  return n + jitter;\n}\n",
  });
});
afterAll(async () => {
  await demo.close();
  await cleanupRepos();
});

const cfg = (over: Partial<ReviewerConfig> = {}): ReviewerConfig => ({
  provider: "demo-reviewer",
  baseUrl: demo.url,
  token: "demo",
  model: "demo",
  minGrade: "D",
  timeoutMs: 20_000,
  maxDiffBytes: 64 * 1024,
  ...over,
});

async function reviewWith(directive: string, over: Partial<ReviewerConfig> = {}) {
  const before = demo.requests.length;
  const out = await reviewAfterGates(
    cfg(over),
    undefined,
    {
      spec: {
        title: "jitter",
        body: `Add a jitter parameter to \`pick\`.\n\n<!-- mtor-review: ${directive} -->`,
      },
      repoDir: repo.dir,
      mergeBase,
      headSha,
    },
    { outcome: "passed", flags: [] },
  );
  return { out, requests: demo.requests.slice(before) };
}

describe("reviewAfterGates", () => {
  it("passes a run graded at or above the minimum, with the grade, findings and usage apart", async () => {
    const { out, requests } = await reviewWith("B+");
    expect(out.outcome).toBe("passed");
    expect(out.flags).toEqual([]);
    expect(out.review).toMatchObject({
      provider: "demo-reviewer",
      grade: "B+",
      findings: [{ file: "src/pick.ts" }],
    });
    expect(out.review?.error).toBeUndefined();
    expect(out.reviewUsage?.input_tokens).toBeGreaterThan(0);
    expect(out.reviewUsage?.output_tokens).toBeGreaterThan(0);
    expect(requests.map((r) => r.script)).toEqual(["reviewer"]);
    expect(out.review?.grade && belowMin(out.review.grade, "D")).toBe(false);
  });

  it("rejects a run graded below min_grade with flag review and the findings as detail, fed back to the next attempt", async () => {
    const { out } = await reviewWith("F", { minGrade: "C" });
    expect(out.outcome).toBe("rejected");
    expect(out.flags).toHaveLength(1);
    expect(out.flags[0]).toMatchObject({ gate: "review", action: "reject" });
    expect(out.flags[0].detail).toMatch(/^graded F, below C: .*scripted review/);
    expect(out.flags[0].detail).toMatch(/- major src\/pick.ts:1: scripted finding/);
    const [line] = feedbackFor(out.flags);
    expect(line).toMatch(/^A reviewer graded the last attempt F \(the minimum is C\)/);
    expect(line).toMatch(/major src\/pick.ts:1: scripted finding/);
  });

  it("a grade of D passes under the default minimum D; D- does not", async () => {
    expect((await reviewWith("D")).out.outcome).toBe("passed");
    expect((await reviewWith("D-")).out.outcome).toBe("rejected");
  });

  it("follows the control plane's action for the review gate: review flags but passes, off skips the reviewer", async () => {
    const input = {
      spec: { title: "jitter", body: "<!-- mtor-review: F -->" },
      repoDir: repo.dir,
      mergeBase,
      headSha,
    };
    const flagged = await reviewAfterGates(cfg(), { action: "review", retry: true }, input, {
      outcome: "passed",
      flags: [],
    });
    expect(flagged.outcome).toBe("passed");
    expect(flagged.flags.map((f) => `${f.gate}:${f.action}`)).toEqual(["review:review"]);
    const before = demo.requests.length;
    const off = await reviewAfterGates(cfg(), { action: "off", retry: false }, input, {
      outcome: "passed",
      flags: [],
    });
    expect(off.review).toBeUndefined();
    expect(demo.requests.length).toBe(before);
  });

  it("does not review a run the gates rejected", async () => {
    const before = demo.requests.length;
    const flags = [{ gate: "destruction" as const, action: "reject" as const, detail: "x" }];
    const out = await reviewAfterGates(
      cfg(),
      DEFAULT_GATES.review,
      { spec: { title: "t", body: "" }, repoDir: repo.dir, mergeBase, headSha },
      { outcome: "rejected", flags },
    );
    expect(out).toEqual({ outcome: "rejected", flags });
    expect(demo.requests.length).toBe(before);
  });

  it("retries a malformed answer once and takes the grade from the retry", async () => {
    const { out, requests } = await reviewWith("malformed-once");
    expect(requests.map((r) => r.turn)).toEqual([0, 1]);
    expect(out.review?.grade).toBe("B");
  });

  it("gives no grade after two malformed answers, and passes the run", async () => {
    const { out, requests } = await reviewWith("malformed");
    expect(requests).toHaveLength(2);
    expect(out.outcome).toBe("passed");
    expect(out.review?.grade).toBeUndefined();
    expect(out.review?.error).toMatch(/^no grade: the reviewer's answer was malformed twice/);
  });

  it("gives no grade on a 529 and passes the run", async () => {
    const { out } = await reviewWith("overloaded");
    expect(out.outcome).toBe("passed");
    expect(out.review?.grade).toBeUndefined();
    expect(out.review?.error).toMatch(/no grade: the reviewer demo-reviewer answered 529 overloaded_error/);
  });

  it("gives no grade when the reviewer never answers, and passes the run", async () => {
    const { out } = await reviewWith("timeout", { timeoutMs: 300 });
    expect(out.outcome).toBe("passed");
    expect(out.review?.grade).toBeUndefined();
    expect(out.review?.error).toMatch(/no grade: the reviewer timed out/);
  });

  it("gives no grade when the reviewer cannot be reached", async () => {
    const { out } = await reviewWith("A", { baseUrl: "http://127.0.0.1:9" });
    expect(out.outcome).toBe("passed");
    expect(out.review?.error).toMatch(/no grade: the reviewer could not reach demo-reviewer/);
  });
});

describe("the reviewer's breaker", () => {
  it("opens after three failures in a row: runs then get no grade without asking, and a grade closes it", async () => {
    let now = Date.UTC(2026, 0, 1);
    const breaker = new ReviewBreaker(() => now);
    const ask = async (directive: string) => {
      const before = demo.requests.length;
      const out = await reviewAfterGates(
        cfg(),
        undefined,
        {
          spec: { title: "t", body: `<!-- mtor-review: ${directive} -->` },
          repoDir: repo.dir,
          mergeBase,
          headSha,
        },
        { outcome: "passed", flags: [] },
        { breaker },
      );
      return { out, asked: demo.requests.length - before };
    };
    for (let i = 0; i < 3; i++) expect((await ask("overloaded")).asked).toBe(1);
    const skipped = await ask("A");
    expect(skipped.asked).toBe(0);
    expect(skipped.out.outcome).toBe("passed");
    expect(skipped.out.review?.error).toMatch(
      /^no grade: the reviewer's breaker is open after 3 failures in a row/,
    );
    now += ReviewBreaker.BASE_MS;
    const trial = await ask("A");
    expect(trial.asked).toBe(1);
    expect(trial.out.review?.grade).toBe("A");
    expect((await ask("overloaded")).asked).toBe(1);
    expect((await ask("A")).asked).toBe(1); // closed again: one failure does not open it
  });
});

describe("truncateDiff", () => {
  it("cuts at a line and says how much was shown", () => {
    const diff = Array.from({ length: 100 }, (_, i) => `+line ${i}`).join("\n");
    const cut = truncateDiff(diff, 50);
    expect(cut.length).toBeLessThan(200);
    expect(cut).toMatch(/\[diff truncated: showing the first \d+ of 100 lines \(\d+ of \d+ bytes\)/);
    expect(truncateDiff("+a\n", 50)).toBe("+a\n");
  });
});

describe("[review] config", () => {
  const base = `control_plane = "http://127.0.0.1:1"\nid = "x"\n[repos.r]\nurl = "/tmp/r"\n[providers.big]\nbase_url = "http://127.0.0.1:2"\ntoken_env = "BIG"\nmodel = "big-1"\n`;
  const env = { MTOR_EXECUTOR_SECRET: "s", BIG: "k" };
  it("names a provider from the config, with min_grade defaulting to D", () => {
    const c = parseConfig(`${base}[review]\nprovider = "big"\n`, env);
    expect(c.review).toMatchObject({
      provider: "big",
      baseUrl: "http://127.0.0.1:2",
      token: "k",
      model: "big-1",
      minGrade: "D",
    });
    expect(parseConfig(base, env).review).toBeUndefined();
  });
  it("refuses an unknown provider and a bad grade", () => {
    expect(() => parseConfig(`${base}[review]\nprovider = "nope"\n`, env)).toThrow(
      /review.provider: unknown provider "nope"/,
    );
    expect(() => parseConfig(`${base}[review]\nprovider = "big"\nmin_grade = "G"\n`, env)).toThrow(
      /review.min_grade/,
    );
  });
});
