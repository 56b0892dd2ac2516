// The fleet's history and the report's timeline picture: breaker, cooling, freeze and window
// periods are written when the state changes, the review backlog is sampled when a spec enters
// or leaves review, GET /v1/report answers the picture as SVG, and the monitor prunes old rows.

import { runInDurableObject } from "cloudflare:test";
import { DOMParser, type Document } from "@xmldom/xmldom";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, nowMs, startClock, tick } from "./helpers";
import { claimOne, monitorPass, sendVerdict, stub } from "./webhooks-helpers";

interface PeriodRow {
  kind: string;
  provider: string | null;
  started_at: number;
  ended_at: number | null;
  detail: string | null;
}

const periods = (kind: string, provider: string | null) =>
  runInDurableObject(stub(), (_i, state) =>
    state.storage.sql
      .exec(
        "SELECT kind, provider, started_at, ended_at, detail FROM fleet_periods WHERE kind = ? AND provider IS ? ORDER BY id",
        kind,
        provider,
      )
      .toArray(),
  ) as Promise<unknown> as Promise<PeriodRow[]>;

const samples = () =>
  runInDurableObject(stub(), (_i, state) =>
    state.storage.sql.exec("SELECT at, awaiting_review FROM backlog_samples ORDER BY id").toArray(),
  ) as Promise<unknown> as Promise<{ at: number; awaiting_review: number }[]>;

async function fail(provider: string, kind: string, retryAfterS?: number) {
  const run = await claimOne(`ex-${provider}`, provider, "tl");
  await sendVerdict(run, {
    outcome: "failed",
    failure: { kind: kind as "provider", message: "upstream said no", retry_after_s: retryAfterS },
  });
}

function parseSvg(text: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => errors.push(`${level}: ${msg}`) }).parseFromString(
    text,
    "image/svg+xml",
  );
  expect(errors).toEqual([]);
  expect(doc.documentElement?.nodeName).toBe("svg");
  return doc;
}

const byClass = (doc: Document, cls: string) =>
  Array.from(doc.getElementsByTagName("*")).filter((e) =>
    (e.getAttribute("class") ?? "").split(" ").includes(cls),
  );

beforeAll(async () => {
  await startClock(Date.UTC(2026, 0, 10, 22, 0, 0));
});

afterEach(async () => {
  await api("/v1/thaw", { method: "POST" });
  await api("/v1/settings", { method: "PUT", body: { window: null } });
});

describe("fleet history", () => {
  it("a breaker's period begins when it trips and ends when a trial closes it", async () => {
    for (let i = 0; i < 4; i++)
      await dispatchSpec(`breaker ${i}`, { provider: "tl-breaker", repo: "tl", attempts: "1" });
    const before = nowMs();
    for (let i = 0; i < 3; i++) await fail("tl-breaker", "provider");
    expect(await periods("breaker", "tl-breaker")).toEqual([
      expect.objectContaining({ started_at: before, ended_at: null }),
    ]);
    await tick(6 * 60_000);
    await monitorPass();
    const trial = await claimOne("ex-tl-breaker", "tl-breaker", "tl");
    await sendVerdict(trial, { outcome: "passed" });
    expect(await periods("breaker", "tl-breaker")).toEqual([
      expect.objectContaining({ started_at: before, ended_at: nowMs() }),
    ]);
  });

  it("a 429 with Retry-After records a cooling period that knows its end, and a longer one extends it", async () => {
    for (let i = 0; i < 3; i++)
      await dispatchSpec(`cool ${i}`, { provider: "tl-cool", repo: "tl", attempts: "1" });
    const a = await claimOne("ex-tl-cool", "tl-cool", "tl");
    const b = await claimOne("ex-tl-cool", "tl-cool", "tl");
    const start = nowMs();
    const limited = (retry_after_s: number) => ({
      outcome: "failed" as const,
      failure: { kind: "rate_limited" as const, message: "429", retry_after_s },
    });
    await sendVerdict(a, limited(120));
    expect(await periods("cooling", "tl-cool")).toEqual([
      expect.objectContaining({ started_at: start, ended_at: start + 120_000 }),
    ]);
    // The run still in flight hits the limit too, with a longer Retry-After.
    await tick(30_000);
    await sendVerdict(b, limited(300));
    expect(await periods("cooling", "tl-cool")).toEqual([
      expect.objectContaining({ started_at: start, ended_at: nowMs() + 300_000 }),
    ]);
    // After it ends, the next 429 is a new period.
    await tick(400_000);
    await fail("tl-cool", "rate_limited", 60);
    const rows = await periods("cooling", "tl-cool");
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ started_at: nowMs(), ended_at: nowMs() + 60_000 });
  });

  it("freezing and thawing the fleet or a provider records the frozen period", async () => {
    const start = nowMs();
    expect((await api("/v1/freeze", { method: "POST" })).status).toBe(200);
    await tick(60_000);
    expect((await api("/v1/freeze", { method: "POST" })).status).toBe(200);
    await tick(60_000);
    expect((await api("/v1/thaw", { method: "POST" })).status).toBe(200);
    const fleetRows = await periods("frozen", null);
    expect(fleetRows.at(-1)).toMatchObject({ started_at: start, ended_at: start + 120_000 });

    expect((await api("/v1/providers/tl-frozen", { method: "PUT", body: { slots: 1 } })).status).toBe(200);
    expect((await api("/v1/providers/tl-frozen/freeze", { method: "POST" })).status).toBe(200);
    expect(await periods("frozen", "tl-frozen")).toEqual([
      expect.objectContaining({ started_at: nowMs(), ended_at: null }),
    ]);
    await tick(30_000);
    expect((await api("/v1/providers/tl-frozen/thaw", { method: "POST" })).status).toBe(200);
    expect(await periods("frozen", "tl-frozen")).toEqual([
      expect.objectContaining({ started_at: nowMs() - 30_000, ended_at: nowMs() }),
    ]);
  });

  it("a closed window is a period from the change that closed it until the monitor sees it open", async () => {
    // 22:00 UTC now: a 23:00-05:00 window is closed, for the fleet and for one provider.
    const at = nowMs();
    const fleetWindow = await api("/v1/settings", {
      method: "PUT",
      body: { window: "23:00-05:00", window_zone: "UTC" },
    });
    expect(fleetWindow.status).toBe(200);
    const pw = await api("/v1/providers/tl-win", {
      method: "PUT",
      body: { window: "23:30-05:00", window_zone: "UTC" },
    });
    expect(pw.status).toBe(200);
    expect(await periods("window", null)).toEqual([
      expect.objectContaining({ started_at: at, ended_at: null, detail: "23:00-05:00 UTC" }),
    ]);
    expect(await periods("window", "tl-win")).toEqual([expect.objectContaining({ ended_at: null })]);
    // A pass while still closed writes nothing.
    await tick(10 * 60_000);
    await monitorPass();
    expect(await periods("window", null)).toHaveLength(1);
    await tick(90 * 60_000);
    await monitorPass();
    expect(await periods("window", null)).toEqual([
      expect.objectContaining({ started_at: at, ended_at: nowMs() }),
    ]);
    expect(await periods("window", "tl-win")).toEqual([expect.objectContaining({ ended_at: nowMs() })]);
    // Removing a window ends nothing more and begins nothing.
    await api("/v1/providers/tl-win", { method: "PUT", body: { window: null } });
    expect(await periods("window", "tl-win")).toHaveLength(1);
  });

  it("samples the review backlog when a spec enters or leaves review, on every path", async () => {
    const first = (await samples()).length;
    const id = await dispatchSpec("backlog one", { provider: "tl-review", repo: "tl" });
    const run = await claimOne("ex-tl-review", "tl-review", "tl");
    expect(run.spec_id).toBe(id);
    await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1` });
    const entered = (await samples()).slice(first);
    expect(entered).toHaveLength(1);
    expect(entered[0]?.at).toBe(nowMs());
    await tick(60_000);
    expect((await api(`/v1/specs/${id}/approve`, { method: "POST", body: {} })).status).toBe(200);
    const left = (await samples()).slice(first);
    expect(left).toHaveLength(2);
    expect(left[1]).toEqual({ at: nowMs(), awaiting_review: (left[0]?.awaiting_review ?? 0) - 1 });
  });
});

describe("budget holds", () => {
  it("a provider that reached its budget is shaded as budget in the picture", async () => {
    expect((await api("/v1/providers/tl-budget", { method: "PUT", body: { budget_usd: 1 } })).status).toBe(
      200,
    );
    for (let i = 0; i < 2; i++)
      await dispatchSpec(`budget ${i}`, { provider: "tl-budget", repo: "tl", attempts: "1" });
    // No usage reported and no prices: the run counts at the $1 fallback, which reaches the budget.
    await fail("tl-budget", "harness");
    const held = await executorClient().claim(
      claimBody("ex-tl-budget", { providers: ["tl-budget"], repos: ["tl"] }),
    );
    expect(held.ok && held.data).toEqual({ runs: [], reason: "budget" });
    await tick(60_000);
    const doc = parseSvg(await (await api("/v1/report?format=svg")).text());
    const shaded = byClass(doc, "period-budget");
    expect(shaded.map((e) => e.textContent)).toEqual([expect.stringContaining("budget reached: tl-budget")]);
    expect((await api("/v1/providers/tl-budget", { method: "PUT", body: { budget_usd: null } })).status).toBe(
      200,
    );
  });
});

describe("GET /v1/report as SVG", () => {
  it("draws lanes, bars, shaded periods and the backlog line, with a hostile title escaped", async () => {
    const title = `</text><script>alert("x")</script><text>`;
    const id = await dispatchSpec(title, { provider: "tl-svg", repo: "tl" });
    const run = await claimOne("ex-tl-svg", "tl-svg", "tl");
    expect(run.spec_id).toBe(id);
    await tick(60_000);
    await sendVerdict(run, { outcome: "passed", branch: `mtor/${id}-1` });

    const res = await api("/v1/report?format=svg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    const doc = parseSvg(await res.text());
    expect(doc.getElementsByTagName("script")).toHaveLength(0);
    const bars = byClass(doc, "run");
    const ours = bars.find((b) => b.textContent?.includes(run.run_id));
    expect(ours?.textContent).toContain(title);
    expect(ours?.getAttribute("class")).toContain("run-passed");
    // Lanes for the providers seen, periods from the tests above, the backlog line, a legend.
    const labels = Array.from(doc.getElementsByTagName("text")).map((t) => t.firstChild?.nodeValue ?? "");
    expect(labels).toEqual(expect.arrayContaining(["tl-svg 1", "tl-break… 1"]));
    for (const kind of ["breaker", "cooling", "frozen", "window"]) {
      expect(byClass(doc, `period-${kind}`).length, kind).toBeGreaterThan(0);
    }
    expect(byClass(doc, "backlog-line")).toHaveLength(1);
    expect(byClass(doc, "legend")).toHaveLength(1);
  });

  it("answers SVG to Accept: image/svg+xml, and JSON and text as before", async () => {
    const svg = await api("/v1/report", { headers: { accept: "image/svg+xml" } });
    expect(svg.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    parseSvg(await svg.text());
    const json = await api("/v1/report", { headers: { accept: "application/json, image/svg+xml" } });
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await json.json()).toHaveProperty("totals");
    const text = await api("/v1/report?format=text", { headers: { accept: "image/svg+xml" } });
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect((await api("/v1/report?format=svg", { token: null })).status).toBe(401);
  });
});

describe("pruning", () => {
  it("the monitor deletes history older than two weeks and keeps what still lasts", async () => {
    expect((await api("/v1/providers/tl-prune", { method: "PUT", body: { slots: 1 } })).status).toBe(200);
    expect((await api("/v1/providers/tl-prune/freeze", { method: "POST" })).status).toBe(200);
    expect(await periods("frozen", "tl-frozen")).toHaveLength(1);
    expect((await samples()).length).toBeGreaterThan(0);
    await tick(15 * 24 * 3600_000);
    await monitorPass();
    expect(await periods("frozen", "tl-frozen")).toHaveLength(0);
    expect(await periods("breaker", "tl-breaker")).toHaveLength(0);
    // A period still open is kept however old it is.
    expect(await periods("frozen", "tl-prune")).toHaveLength(1);
    expect(await samples()).toEqual([]);
  });
});
