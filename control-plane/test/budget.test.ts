// The spend budget: what each run counts (reported cost, price table, fallback, the reviewer's
// tokens), claims answering `budget` once a budget is reached while runs in flight finish, one
// `budget.reached` webhook per reach with "raise" and "resume" phone links, and each link
// letting claims through again.

import { SELF } from "cloudflare:test";
import type {
  BudgetLine,
  ClaimedRun,
  ClaimResponse,
  SettingsView,
  StatusView,
  Usage,
} from "@mtor/schema/wire";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, claimFor, dispatchSpec, startClock } from "./helpers";
import {
  claimOne,
  createWebhook,
  deleteAllWebhooks,
  receiver,
  runAlarm,
  sendVerdict,
} from "./webhooks-helpers";

const at = (isoTime: string) => startClock(Date.parse(isoTime));

const claim = (id: string, provider: string, repo = "r-budget"): Promise<ClaimResponse> =>
  claimFor(id, [repo], provider);

const usage = (over: Partial<Usage>): Usage => ({
  input_tokens: 0,
  output_tokens: 0,
  cost_usd: 0,
  turns: 1,
  ...over,
});

/** Dispatches a spec for `provider`, runs it and reports a passed verdict with `u`. */
async function spend(provider: string, u: Usage | undefined, extra: Record<string, unknown> = {}) {
  const id = await dispatchSpec(`spend ${Math.random()}`, { repo: "r-budget", provider });
  const run = await claimOne(`ex-${provider}`, provider, "r-budget");
  expect(run.spec_id).toBe(id);
  await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1`, usage: u, ...extra });
  return id;
}

async function put(path: string, body: unknown, token: "admin" | "read" = "admin") {
  const res = await api(path, { method: "PUT", body, token });
  return { status: res.status, body: (await res.json()) as SettingsView & { error: { message: string } } };
}

const settings = async () => (await (await api("/v1/settings")).json()) as SettingsView;
const lineOf = async (provider: string | null): Promise<BudgetLine | undefined> => {
  const b = (await settings()).budget;
  return provider === null ? (b.fleet ?? undefined) : b.providers.find((l) => l.provider === provider);
};

/** The one `budget.reached` delivery's standard body, and the phone links it carries. */
function reachedEvents(received: { body: string }[], provider: string) {
  return received
    .map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type === "budget.reached" && e.data.provider === provider);
}

/** Taps a phone link: the confirm page, then the button. */
async function tap(link: string) {
  const url = link.replace("https://mtor.example.com", "http://mtor.test");
  const page = await SELF.fetch(url);
  const confirm = await page.text();
  const res = await SELF.fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "",
  });
  return { confirm, confirmStatus: page.status, status: res.status, text: await res.text() };
}

beforeAll(async () => {
  await startClock();
  // Every spent run here waits for review: the review backlog limit would hold claims first.
  expect((await put("/v1/settings", { max_awaiting_review: 0 })).status).toBe(200);
});

afterEach(async () => {
  const s = await settings();
  expect(
    (await put("/v1/settings", { budget_usd: null, window: null, raise_usd: 5, fallback_run_usd: 1 })).status,
  ).toBe(200);
  for (const name of Object.keys(s.providers)) {
    const r = await put(`/v1/providers/${name}`, { budget_usd: null, price: null, window: null });
    expect(r.status).toBe(200);
  }
  await deleteAllWebhooks();
});

describe("budget settings", () => {
  it("default to no budget, $1 fallback and $5 raises, and show tonight's spend", async () => {
    const s = await settings();
    expect(s).toMatchObject({ budget_usd: null, fallback_run_usd: 1, raise_usd: 5 });
    expect(s.budget).toMatchObject({ fleet: null, providers: [], fallback_run_usd: 1, raise_usd: 5 });
    expect(typeof s.budget.spend_usd).toBe("number");
  });

  it("are validated with the field named, and only an admin changes them", async () => {
    const bad: [string, unknown, RegExp][] = [
      ["/v1/settings", { budget_usd: -5 }, /budget_usd: must not be negative/],
      ["/v1/settings", { budget_usd: 0 }, /budget_usd: must be more than 0/],
      ["/v1/settings", { budget_usd: "10" }, /budget_usd: must be a number of US dollars/],
      ["/v1/settings", { fallback_run_usd: 0 }, /fallback_run_usd: must be more than 0/],
      ["/v1/settings", { raise_usd: -1 }, /raise_usd: must not be negative/],
      ["/v1/providers/p-val", { budget_usd: -1 }, /budget_usd: must not be negative/],
      [
        "/v1/providers/p-val",
        { price: { input_per_mtok: -1, output_per_mtok: 2 } },
        /price\.input_per_mtok: must not be negative/,
      ],
      [
        "/v1/providers/p-val",
        { price: { input_per_mtok: 0, output_per_mtok: 0 } },
        /at least one of input_per_mtok/,
      ],
      ["/v1/providers/p-val", { price: { input: 1, output_per_mtok: 2 } }, /price/],
      ["/v1/providers/p-val", { price: 3 }, /price/],
    ];
    for (const [path, body, re] of bad) {
      const r = await put(path, body);
      expect({ path, body, status: r.status }).toEqual({ path, body, status: 400 });
      expect(r.body.error.message).toMatch(re);
    }
    expect((await put("/v1/settings", { budget_usd: 3 }, "read")).status).toBe(403);
    expect((await put("/v1/providers/p-val", { budget_usd: 3 }, "read")).status).toBe(403);
    expect((await settings()).budget_usd).toBeNull();
  });

  it("a provider's budget and prices show in GET /v1/providers and the settings", async () => {
    const price = { input_per_mtok: 0.6, output_per_mtok: 2.2 };
    const r = await api("/v1/providers/p-show", { method: "PUT", body: { budget_usd: 4, price } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ name: "p-show", budget_usd: 4, price });
    const list = (await (await api("/v1/providers")).json()) as { providers: { name: string }[] };
    expect(list.providers.find((p) => p.name === "p-show")).toMatchObject({ budget_usd: 4, price });
    expect((await settings()).providers["p-show"]).toMatchObject({ budget_usd: 4, price });
    const text = await (await api("/v1/providers", { headers: { accept: "text/plain" } })).text();
    expect(text).toMatch(/p-show.*\$4\.00/);
  });
});

describe("the API described", () => {
  it("the OpenAPI document lists the `budget` claim reason, the budget.reached event and the budget fields", async () => {
    const d = JSON.stringify(await (await SELF.fetch("http://mtor.test/v1/openapi.json")).json());
    const schemas = (JSON.parse(d) as { components: { schemas: Record<string, unknown> } }).components
      .schemas;
    expect(JSON.stringify(schemas.ClaimResponse)).toContain('"budget"');
    expect(JSON.stringify(schemas.WebhookCreate)).toContain('"budget.reached"');
    expect(JSON.stringify(schemas.FleetSettingsUpdate)).toMatch(
      /"budget_usd".*"fallback_run_usd".*"raise_usd"/,
    );
    expect(JSON.stringify(schemas.SettingsView)).toContain('"spend_usd"');
  });
});

describe("spend accounting", () => {
  it("counts the reported cost, else the price table, else the fallback, and the reviewer's tokens", async () => {
    await at("2026-02-01T12:00:00Z");
    await put("/v1/providers/p-acc", { budget_usd: 1000 });
    await put("/v1/settings", { fallback_run_usd: 0.75 });
    // A reported cost counts as it is.
    await spend("p-acc", usage({ input_tokens: 1000, output_tokens: 100, cost_usd: 0.25 }));
    expect((await lineOf("p-acc"))?.spend_usd).toBe(0.25);
    // No cost reported and no prices: the fallback, never nothing.
    await spend("p-acc", usage({ input_tokens: 1_000_000, output_tokens: 0 }));
    expect((await lineOf("p-acc"))?.spend_usd).toBe(1);
    const unpriced = await spend("p-acc", undefined);
    expect((await lineOf("p-acc"))?.spend_usd).toBe(1.75);
    // Each run shows what it counted and where that came from.
    const [counted] = (
      (await (await api(`/v1/specs/${unpriced}`)).json()) as { runs: Record<string, unknown>[] }
    ).runs;
    expect(counted).toMatchObject({ cost_usd: 0.75, cost_source: "fallback" });
    const text = await (await api(`/v1/specs/${unpriced}`, { headers: { accept: "text/plain" } })).text();
    expect(text).toContain("$0.75 (fallback)");
    // With prices, the tokens at those prices: 2M in at $0.5 + 1M out at $2 = $3.
    await put("/v1/providers/p-acc", { price: { input_per_mtok: 0.5, output_per_mtok: 2 } });
    await spend("p-acc", usage({ input_tokens: 2_000_000, output_tokens: 1_000_000 }));
    expect((await lineOf("p-acc"))?.spend_usd).toBe(4.75);
    // The reviewer's reported cost adds to the run's.
    await spend(
      "p-acc",
      usage({
        cost_usd: 0.5,
        input_tokens: 10,
        review: { input_tokens: 5, output_tokens: 5, cost_usd: 0.2 },
      }),
      { review: { provider: "p-reviewer", grade: "B", findings: [] } },
    );
    expect((await lineOf("p-acc"))?.spend_usd).toBe(5.45);
    // The reviewer's tokens with no cost: at the reviewer provider's prices (1M out at $4)...
    await put("/v1/providers/p-reviewer", { price: { input_per_mtok: 1, output_per_mtok: 4 } });
    await spend(
      "p-acc",
      usage({
        cost_usd: 0.05,
        input_tokens: 10,
        review: { input_tokens: 0, output_tokens: 1_000_000, cost_usd: 0 },
      }),
      { review: { provider: "p-reviewer", grade: "A", findings: [] } },
    );
    expect((await lineOf("p-acc"))?.spend_usd).toBe(9.5);
    // ...and at the fallback when the reviewer's provider has none.
    await spend(
      "p-acc",
      usage({
        cost_usd: 0.1,
        input_tokens: 10,
        review: { input_tokens: 100, output_tokens: 100, cost_usd: 0 },
      }),
      { review: { provider: "p-unpriced", grade: "A", findings: [] } },
    );
    expect((await lineOf("p-acc"))?.spend_usd).toBe(10.35);
    // Tonight is the last 24 h without a window: a day later the spend starts again.
    await at("2026-02-02T12:00:01Z");
    expect((await lineOf("p-acc"))?.spend_usd).toBe(0);
  });

  it("a run the control plane ends after pickup (lost lease) counts at the fallback", async () => {
    await at("2026-02-05T12:00:00Z");
    await put("/v1/providers/p-lost", { budget_usd: 100 });
    await dispatchSpec("lost one", { repo: "r-budget", provider: "p-lost" });
    await claimOne("ex-lost", "p-lost", "r-budget");
    await at("2026-02-05T12:10:00Z");
    await runAlarm();
    expect((await lineOf("p-lost"))?.spend_usd).toBe(1);
  });
});

describe("budget hold", () => {
  it("a provider at its budget answers `budget`; its run in flight finishes; other providers go on", async () => {
    await at("2026-02-10T12:00:00Z");
    await put("/v1/providers/p-cap", { budget_usd: 2 });
    await spend("p-cap", usage({ cost_usd: 1.5, input_tokens: 1 }));
    // Under budget: a run starts, and is still in flight when the next run's cost reaches it.
    await dispatchSpec("in flight", { repo: "r-budget", provider: "p-cap" });
    const inFlight: ClaimedRun = await claimOne("ex-cap", "p-cap", "r-budget");
    await spend("p-cap", usage({ cost_usd: 0.6, input_tokens: 1 }));
    const held = await dispatchSpec("held", { repo: "r-budget", provider: "p-cap" });
    expect(await claim("ex-cap", "p-cap")).toEqual({ runs: [], reason: "budget" });
    expect(await lineOf("p-cap")).toMatchObject({ spend_usd: 2.1, budget_usd: 2, holding: true });
    // The run in flight still reports, and counts.
    expect(
      (await sendVerdict(inFlight, { outcome: "passed", usage: usage({ cost_usd: 0.4, input_tokens: 1 }) }))
        .status,
    ).toBe("awaiting_review");
    expect((await lineOf("p-cap"))?.spend_usd).toBe(2.5);
    // Another provider is not held by p-cap's budget.
    const other = await dispatchSpec("other provider", { repo: "r-budget", provider: "p-free" });
    expect((await claim("ex-free", "p-free")).runs.map((r) => r.spec_id)).toEqual([other]);
    // Raising the budget in the settings lets the held spec run.
    await put("/v1/providers/p-cap", { budget_usd: 10 });
    expect((await claim("ex-cap", "p-cap")).runs.map((r) => r.spec_id)).toEqual([held]);
  });

  it("the fleet's budget holds every claim; status, its text and the settings say so", async () => {
    await at("2026-02-12T22:30:00Z");
    // The fleet's night follows its window: spend before 22:00 does not count.
    await put("/v1/settings", { window: "22:00-06:00", window_zone: "UTC" });
    await spend("p-fleet", usage({ cost_usd: 3, input_tokens: 1 }));
    await put("/v1/settings", { budget_usd: 3 });
    const s = await settings();
    expect(s.budget.fleet).toMatchObject({
      provider: null,
      budget_usd: 3,
      spend_usd: 3,
      holding: true,
      night_start: "2026-02-12T22:00:00.000Z",
    });
    await dispatchSpec("fleet held", { repo: "r-budget", provider: "p-fleet2" });
    expect(await claim("ex-fleet2", "p-fleet2")).toEqual({ runs: [], reason: "budget" });
    const status = (await (await api("/v1/status")).json()) as StatusView;
    expect(status.budget?.fleet?.holding).toBe(true);
    const text = await (await api("/v1/status", { headers: { accept: "text/plain" } })).text();
    expect(text).toContain("budget fleet $3.00 of $3.00 tonight — HOLDING new claims (budget)");
    // The next night starts at 22:00 the day after, with nothing spent.
    await at("2026-02-13T22:00:00Z");
    expect((await claim("ex-fleet2", "p-fleet2")).runs).toHaveLength(1);
  });
});

describe("budget.reached", () => {
  it("goes out once per reach with raise and resume links; raise adds $N and lets claims through", async () => {
    await at("2026-02-20T12:00:00Z");
    await createWebhook({
      url: "https://hooks.example.com/budget",
      events: ["budget.reached"],
      links_base: "https://mtor.example.com",
    });
    const r = receiver(() => new Response("ok"));
    try {
      await put("/v1/settings", { raise_usd: 2.5 });
      await put("/v1/providers/p-raise", { budget_usd: 1 });
      await spend("p-raise", usage({ cost_usd: 1.2, input_tokens: 1 }));
      await dispatchSpec("raise a", { repo: "r-budget", provider: "p-raise" });
      // Every claim is refused, but the event goes out once.
      for (let i = 0; i < 3; i++) expect((await claim("ex-raise", "p-raise")).reason).toBe("budget");
      await runAlarm();
      const events = reachedEvents(r.received, "p-raise");
      expect(events).toHaveLength(1);
      expect(events[0].data).toMatchObject({
        provider: "p-raise",
        budget_usd: 1,
        spend_usd: 1.2,
        raise_usd: 2.5,
      });
      const links = events[0].data.actions as Record<string, string>;
      expect(Object.keys(links).sort()).toEqual(["raise", "resume"]);

      const raised = await tap(links.raise);
      expect(raised.confirmStatus).toBe(200);
      expect(raised.confirm).toContain("Raise by $2.50");
      expect(raised.confirm).toContain("spent $1.20 of $1.00");
      expect(raised.status).toBe(200);
      expect(raised.text).toContain("Budget raised");
      expect(await lineOf("p-raise")).toMatchObject({ budget_usd: 1, raised_usd: 2.5, holding: false });
      expect((await claim("ex-raise", "p-raise")).runs).toHaveLength(1);
      // A link works once; the other link's hold has ended.
      expect((await tap(links.raise)).status).toBe(409);
      const resume = await tap(links.resume);
      expect(resume.status).toBe(409);
      expect(resume.text).toContain("already ended");
      await runAlarm();
      expect(reachedEvents(r.received, "p-raise")).toHaveLength(1);
      // The morning report says the budget held, how it ended, and where spend stands.
      const report = await (await api("/v1/report", { headers: { accept: "text/plain" } })).text();
      expect(report).toContain(
        "budget of provider p-raise held claims (budget) from 2026-02-20 12:00 UTC until 2026-02-20 12:00 UTC (raise)",
      );
      expect(report).toContain("budget provider p-raise $1.20 of $3.50 tonight ($1.00 + $2.50 raised)");
    } finally {
      r.restore();
    }
  });

  it("resume until morning lets claims through until the window closes; the next night starts afresh", async () => {
    await at("2026-02-24T23:00:00Z");
    await createWebhook({
      url: "https://hooks.example.com/resume",
      events: ["budget.reached"],
      format: "ntfy",
      links_base: "https://mtor.example.com",
    });
    const r = receiver(() => new Response("ok"));
    try {
      await put("/v1/providers/p-resume", { budget_usd: 1, window: "22:00-06:00", window_zone: "UTC" });
      await spend("p-resume", usage({ cost_usd: 1, input_tokens: 1 }));
      const a = await dispatchSpec("resume a", { repo: "r-budget", provider: "p-resume" });
      expect((await claim("ex-resume", "p-resume")).reason).toBe("budget");
      await runAlarm();
      const push = JSON.parse(r.received.at(-1)?.body ?? "{}") as {
        title: string;
        actions: { label: string; url: string; method: string }[];
      };
      expect(push.title).toBe("Budget reached: provider p-resume");
      expect(push.actions.map((x) => x.label)).toEqual(["Raise by $5.00", "Resume until morning"]);
      const resume = push.actions[1];
      expect(resume.method).toBe("POST");
      const done = await tap(resume.url);
      expect(done.status).toBe(200);
      expect(done.text).toContain("Resumed until morning");
      expect(await lineOf("p-resume")).toMatchObject({
        holding: false,
        resumed_until: "2026-02-25T06:00:00.000Z",
      });
      expect(await claim("ex-resume", "p-resume")).toMatchObject({ runs: [{ spec_id: a }] });
      // Still inside the night, the resume holds even as spend grows.
      await dispatchSpec("resume b", { repo: "r-budget", provider: "p-resume" });
      await at("2026-02-25T05:00:00Z");
      expect((await claim("ex-resume2", "p-resume")).runs).toHaveLength(1);
      // The next night, the budget applies again from nothing spent: claims go on.
      await at("2026-02-25T22:00:00Z");
      await runAlarm(); // the unreported runs above give their slots back
      expect(await lineOf("p-resume")).toMatchObject({
        spend_usd: 0,
        holding: false,
        night_start: "2026-02-25T22:00:00.000Z",
      });
      expect((await claim("ex-resume3", "p-resume")).runs).toHaveLength(1);
    } finally {
      r.restore();
    }
  });

  it("without a window a resume lasts 12 hours; still over budget then, it holds again with a new event", async () => {
    await at("2026-03-01T10:00:00Z");
    await createWebhook({
      url: "https://hooks.example.com/lapse",
      events: ["budget.reached"],
      links_base: "https://mtor.example.com",
    });
    const r = receiver(() => new Response("ok"));
    try {
      await put("/v1/providers/p-lapse", { budget_usd: 1 });
      await spend("p-lapse", usage({ cost_usd: 1, input_tokens: 1 }));
      await dispatchSpec("lapse a", { repo: "r-budget", provider: "p-lapse" });
      expect((await claim("ex-lapse", "p-lapse")).reason).toBe("budget");
      await runAlarm();
      const [first] = reachedEvents(r.received, "p-lapse");
      const done = await tap((first.data.actions as { resume: string }).resume);
      expect(done.status).toBe(200);
      expect((await lineOf("p-lapse"))?.resumed_until).toBe("2026-03-01T22:00:00.000Z");
      await at("2026-03-01T21:59:00Z");
      expect((await claim("ex-lapse", "p-lapse")).runs).toHaveLength(1);
      // The resume ends; the last 24 h still hold $1 of spend: the budget holds again.
      await at("2026-03-01T22:00:00Z");
      await dispatchSpec("lapse b", { repo: "r-budget", provider: "p-lapse" });
      expect((await claim("ex-lapse2", "p-lapse")).reason).toBe("budget");
      await runAlarm();
      expect(reachedEvents(r.received, "p-lapse")).toHaveLength(2);
    } finally {
      r.restore();
    }
  });
});
