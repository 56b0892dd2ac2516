// The morning report: after a scripted night, every figure equals what the runs say; the text
// summary, report.daily at the configured hour, and monitor.digest at most every 15 minutes.
import type { GateFlag } from "@mtor/schema/gates";
import type { Diffstat, Usage, VerdictRequest } from "@mtor/schema/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../src/report/build";
import { api, dispatchSpec, executorClient, startClock, tick } from "./helpers";
import {
  claimOne,
  createWebhook,
  deleteAllWebhooks,
  monitorPass,
  receiver,
  runAlarm,
  sendVerdict,
  stub,
} from "./webhooks-helpers";

const NIGHT = Date.UTC(2027, 2, 1, 22, 0, 0);
const client = executorClient();
const minutes = (n: number) => n * 60_000;

interface Step {
  spec: string;
  provider: string;
  minutes: number;
  outcome: VerdictRequest["outcome"];
  flags?: GateFlag[];
  failure?: VerdictRequest["failure"];
  diffstat?: Diffstat;
  usage?: Usage;
  review?: VerdictRequest["review"];
}

const graded = (grade: string) => ({ provider: "big", grade, findings: [], summary: "ok" });
const reviewUsage = { input_tokens: 300, output_tokens: 40, cost_usd: 0.01 };

const usage = (input_tokens: number, output_tokens: number, cost_usd: number, turns = 5): Usage => ({
  input_tokens,
  output_tokens,
  cost_usd,
  turns,
});

// S2 is rejected once by a gate that retries, then passes; S3 fails at the provider; S5 runs away.
const SCRIPT: Step[] = [
  {
    spec: "S1",
    provider: "rz",
    minutes: 20,
    outcome: "passed",
    diffstat: { files: 2, insertions: 40, deletions: 5 },
    usage: { ...usage(1000, 200, 0.1), review: reviewUsage },
    review: graded("B+"),
  },
  {
    spec: "S2",
    provider: "rz",
    minutes: 10,
    outcome: "rejected",
    flags: [{ gate: "tests_missing", action: "reject", detail: "test_b missing" }],
    diffstat: { files: 1, insertions: 7, deletions: 0 },
    usage: usage(400, 80, 0.03),
  },
  {
    spec: "S2",
    provider: "rz",
    minutes: 15,
    outcome: "passed",
    diffstat: { files: 1, insertions: 12, deletions: 3 },
    usage: { ...usage(800, 100, 0.05), review: reviewUsage },
    review: graded("B"),
  },
  {
    spec: "S3",
    provider: "rk",
    minutes: 5,
    outcome: "failed",
    failure: { kind: "provider", message: "529 overloaded" },
    usage: usage(50, 0, 0),
  },
  {
    spec: "S4",
    provider: "rk",
    minutes: 30,
    outcome: "passed",
    diffstat: { files: 6, insertions: 100, deletions: 80 },
    usage: { ...usage(3000, 900, 0.3), review: reviewUsage },
    review: { provider: "big", findings: [], error: "no grade: the reviewer timed out after 120s" },
  },
  {
    spec: "S5",
    provider: "rk",
    minutes: 25,
    outcome: "rejected",
    flags: [{ gate: "tests_extra", action: "reject", detail: "9 tests added, 2 named" }],
    diffstat: { files: 3, insertions: 300, deletions: 0 },
    usage: usage(500, 500, 0.02),
  },
];

const REVIEWS: Record<string, { action: "approve" | "decline"; grade?: string }> = {
  S1: { action: "approve", grade: "A" },
  S2: { action: "approve", grade: "B" },
  S4: { action: "decline" },
};

interface Ledger extends Step {
  specId: string;
  claimedAt: number;
  finishedAt: number;
}

const ids: Record<string, string> = {};
const ledger: Ledger[] = [];
let t = NIGHT;

beforeAll(async () => {
  await startClock(NIGHT);
  const tag = crypto.randomUUID().slice(0, 6);
  for (const name of ["S1", "S2", "S3", "S4", "S5"]) {
    const provider = SCRIPT.find((s) => s.spec === name)!.provider;
    ids[name] = await dispatchSpec(`${name} night ${tag}`, {
      provider: `${provider}-${tag}`,
      attempts: name === "S3" ? "1" : "2",
    });
  }
  for (const step of SCRIPT) {
    const provider = `${step.provider}-${tag}`;
    const run = await claimOne(`ex-${provider}`, provider);
    expect(run.spec_id).toBe(ids[step.spec]);
    const claimedAt = t;
    // The executor works for the step's minutes, heartbeating every minute.
    for (let m = 0; m < step.minutes; m++) {
      t = await tick(minutes(1));
      const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
      expect(hb.ok).toBe(true);
    }
    await sendVerdict(run, {
      outcome: step.outcome,
      flags: step.flags ?? [],
      failure: step.failure,
      diffstat: step.diffstat,
      usage: step.usage,
      review: step.review,
      branch: `mtor/${run.spec_id}-${run.attempt}`,
      duration_ms: minutes(step.minutes),
    });
    ledger.push({ ...step, provider, specId: run.spec_id, claimedAt, finishedAt: t });
  }
  for (const [name, review] of Object.entries(REVIEWS)) {
    const res = await api(`/v1/specs/${ids[name]}/${review.action}`, {
      body: review.grade ? { grade: review.grade } : {},
    });
    expect(res.status).toBe(200);
  }
});

afterAll(async () => {
  await deleteAllWebhooks();
});

// The wire shape is the one build.ts answers with; the figures are computed here independently.
type ReportJson = Report;

const since = new Date(NIGHT - minutes(60)).toISOString();

describe("the report", () => {
  it("after a scripted night, its figures equal those computed from the runs", async () => {
    const res = await api(`/v1/report?since=${since}`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as ReportJson;

    const expectedStatus: Record<string, string> = {
      S1: "approved",
      S2: "approved",
      S3: "dead",
      S4: "declined",
      S5: "rejected",
    };
    for (const [name, id] of Object.entries(ids)) {
      const runs = ledger.filter((l) => l.specId === id);
      const last = runs[runs.length - 1];
      const withDiff = [...runs].reverse().find((r) => r.diffstat);
      expect(
        report.specs.find((s) => s.id === id),
        name,
      ).toEqual(
        expect.objectContaining({
          status: expectedStatus[name],
          outcome: last.outcome,
          grade: REVIEWS[name]?.grade ?? null,
          runs: runs.length,
          lines: {
            insertions: withDiff?.diffstat?.insertions ?? 0,
            deletions: withDiff?.diffstat?.deletions ?? 0,
          },
          flags: (last.flags ?? []).map((f) => f.gate),
        }),
      );
    }

    for (const name of new Set(ledger.map((l) => l.provider))) {
      const runs = ledger.filter((l) => l.provider === name);
      const passed = runs.filter((r) => r.outcome === "passed").length;
      const hours =
        (Math.max(...runs.map((r) => r.finishedAt)) - Math.min(...runs.map((r) => r.claimedAt))) / 3_600_000;
      const p = report.providers.find((x) => x.name === name)!;
      expect(p.runs).toBe(runs.length);
      expect(p.passed).toBe(passed);
      expect(p.rejected).toBe(runs.filter((r) => r.outcome === "rejected").length);
      expect(p.failed).toBe(runs.filter((r) => r.outcome === "failed").length);
      expect(p.pass_rate).toBeCloseTo(passed / runs.length, 4);
      expect(p.tasks_per_hour).toBeCloseTo(runs.length / hours, 2);
      expect(p.input_tokens).toBe(runs.reduce((n, r) => n + (r.usage?.input_tokens ?? 0), 0));
      expect(p.output_tokens).toBe(runs.reduce((n, r) => n + (r.usage?.output_tokens ?? 0), 0));
      expect(p.cost_usd).toBeCloseTo(
        runs.reduce((n, r) => n + (r.usage?.cost_usd ?? 0), 0),
        4,
      );
    }
    // The reviewer's grades per provider, and what it spent, apart from the workers'.
    const rz = report.providers.find((p) => p.name.startsWith("rz-"))!;
    const rk = report.providers.find((p) => p.name.startsWith("rk-"))!;
    expect(rz).toMatchObject({ review_grades: { B: 1, "B+": 1 }, review_ungraded: 0, review_tokens: 680 });
    expect(rz.review_cost_usd).toBeCloseTo(0.02, 4);
    expect(rk).toMatchObject({ review_grades: {}, review_ungraded: 1, review_tokens: 340 });
    expect(report.specs.find((x) => x.id === ids.S1)?.review_grade).toBe("B+");
    expect(report.specs.find((x) => x.id === ids.S4)?.review_grade).toBeNull();
    // The two providers run 45 and 60 minutes: 3 runs each.
    expect(report.providers.map((p) => p.tasks_per_hour).sort()).toEqual([3, 4]);

    const mine = report.specs.filter((s) => Object.values(ids).includes(s.id));
    expect(mine).toHaveLength(5);
    expect(report.totals.runs).toBe(ledger.length);
    expect(report.totals.passed).toBe(3);
    expect(report.totals.rejected).toBe(2);
    expect(report.totals.failed).toBe(1);
    expect(report.totals.pass_rate).toBeCloseTo(0.5, 4);
    expect(report.totals.input_tokens).toBe(5750);
    expect(report.totals.output_tokens).toBe(1780);
    expect(report.totals.cost_usd).toBeCloseTo(0.5, 4);
    expect(report.totals.lines).toEqual({ insertions: 452, deletions: 88 });
  });

  it("as text: one line per spec, per provider, and the totals", async () => {
    const res = await api(`/v1/report?since=${since}`, { headers: { accept: "text/plain" } });
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    for (const id of Object.values(ids)) expect(text).toMatch(new RegExp(`^  ${id} `, "m"));
    expect(text).toMatch(/^ {2}\S+ +approved +A /m);
    expect(text).toContain("⚑ tests_extra");
    expect(text).toMatch(/^ {15}reviewer grades B×1 B\+×1; reviewer tokens 680 \$0\.02$/m);
    expect(text).toMatch(/reviewer grades 1 without a grade; reviewer tokens 340/);
    expect(text).toContain(
      "totals: 5 specs, 6 runs, 3 passed (50%), 2 rejected, 1 failed, +452 -88 lines, 7.5k tokens, $0.50",
    );
    expect((await api(`/v1/report?format=text&since=${since}`)).headers.get("content-type")).toMatch(
      /text\/plain/,
    );
  });

  it("refuses a bad since and needs a token", async () => {
    expect((await api("/v1/report?since=last-night")).status).toBe(400);
    expect(
      (await api(`/v1/report?since=${since}&until=${new Date(NIGHT - minutes(120)).toISOString()}`)).status,
    ).toBe(400);
    expect((await api("/v1/report", { token: null })).status).toBe(401);
    expect((await api(`/v1/report?since=${since}`, { token: "read" })).status).toBe(200);
  });
});

describe("scheduled summaries", () => {
  it("sends monitor.digest only when something happened, at most every 15 minutes", async () => {
    await createWebhook({ url: "https://hooks.example.com/digest", events: ["monitor.digest"] });
    const r = receiver(() => new Response("ok"));
    try {
      await tick(minutes(16));
      await monitorPass();
      await runAlarm();
      const afterFirst = r.received.length;
      expect(afterFirst).toBeLessThanOrEqual(1);

      // Something happens; a pass a minute later stays quiet, the one 15 minutes after the last digest tells.
      const id = await dispatchSpec(`digest ${crypto.randomUUID()}`, {
        provider: "rd-digest",
        attempts: "1",
      });
      const run = await claimOne("ex-rd-digest", "rd-digest");
      await sendVerdict(run, { outcome: "passed" });
      await tick(minutes(1));
      await monitorPass();
      await runAlarm();
      expect(r.received.length).toBe(afterFirst);
      await tick(minutes(15));
      await monitorPass();
      await runAlarm();
      expect(r.received.length).toBe(afterFirst + 1);
      const digest = JSON.parse(r.received[r.received.length - 1].body) as {
        type: string;
        data: { events: Record<string, number>; specs: { spec_id: string }[]; text: string };
      };
      expect(digest.type).toBe("monitor.digest");
      expect(digest.data.events["spec.verdict"]).toBe(1);
      expect(digest.data.specs.map((s) => s.spec_id)).toContain(id);

      // Nothing new: no digest, however long it has been.
      await tick(minutes(40));
      await monitorPass();
      await runAlarm();
      expect(r.received.length).toBe(afterFirst + 1);
    } finally {
      r.restore();
      await deleteAllWebhooks();
    }
  });

  it("sends report.daily once, at REPORT_HOUR_UTC, with the night's text", async () => {
    await createWebhook({
      url: "https://hooks.example.com/morning",
      events: ["report.daily"],
      format: "slack",
    });
    const r = receiver(() => new Response("ok"));
    try {
      const now = await stub().now();
      const sixFiftyNine = Date.UTC(2027, 2, 2, 6, 59, 0);
      expect(now).toBeLessThan(sixFiftyNine);
      await tick(sixFiftyNine - now);
      await monitorPass();
      await runAlarm();
      expect(r.received).toHaveLength(0);

      await tick(minutes(1));
      expect((await monitorPass()).pass.changes.reports).toBe(1);
      await tick(minutes(1));
      expect((await monitorPass()).pass.changes.reports).toBe(0);
      await runAlarm();
      expect(r.received).toHaveLength(1);
      const slack = JSON.parse(r.received[0].body) as { text: string; blocks: { text?: { text: string } }[] };
      expect(slack.text).toContain("mtor morning report");
      for (const id of Object.values(ids)) expect(slack.text).toContain(id);
      // The night plus the spec the digest test ran.
      expect(slack.text).toContain("totals: 6 specs, 7 runs");
    } finally {
      r.restore();
      await deleteAllWebhooks();
    }
  });
});
