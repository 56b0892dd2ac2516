// Review backpressure: while too many specs await review, claims answer `review_backlog`; an
// approve, a decline or a phone action that brings the count down lets claiming resume.

import { SELF } from "cloudflare:test";
import type { ProviderView, SettingsView, StatusView } from "@mtor/schema/wire";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, claimFor, dispatchSpec, startClock } from "./helpers";

const at = (isoTime: string) => startClock(Date.parse(isoTime));

import { createWebhook, deleteAllWebhooks, receiver, runAlarm, toAwaitingReview } from "./webhooks-helpers";

const claim = claimFor;

async function put(body: unknown, token: "admin" | "read" = "admin") {
  const res = await api("/v1/settings", { method: "PUT", body, token });
  return {
    status: res.status,
    body: (await res.json()) as SettingsView & { error: { code: string; message: string } },
  };
}

const settings = async () => (await (await api("/v1/settings")).json()) as SettingsView;

beforeAll(async () => {
  await startClock();
});

afterEach(async () => {
  // Every test leaves the fleet's defaults behind.
  const s = await settings();
  const repos = Object.fromEntries(Object.keys(s.repos).map((r) => [r, { max_awaiting_review: null }]));
  expect((await put({ max_awaiting_review: 10, repos, window: null })).status).toBe(200);
  for (const name of Object.keys(s.providers)) {
    expect((await api(`/v1/providers/${name}`, { method: "PUT", body: { window: null } })).status).toBe(200);
  }
  await deleteAllWebhooks();
});

describe("settings", () => {
  it("default to 10 fleet-wide and no repo limits", async () => {
    const s = await settings();
    expect(s.max_awaiting_review).toBe(10);
    expect(s.repos).toEqual({});
    expect(s.review_backlog).toMatchObject({ max_awaiting_review: 10, holding: false });
  });

  it("are validated with the field named, and only an admin changes them", async () => {
    const bad: [unknown, RegExp][] = [
      [{ max_awaiting_review: -1 }, /max_awaiting_review: must be 0 \(off\) or more/],
      [{ max_awaiting_review: 1.5 }, /max_awaiting_review: must be a whole number/],
      [{ max_awaiting_review: "4" }, /max_awaiting_review: must be a whole number/],
      [{ max_awaiting_reviews: 4 }, /max_awaiting_reviews/],
      [{ repos: { "bad name!": { max_awaiting_review: 1 } } }, /repos.*letters, digits/],
      [{ repos: { mtor: { max_awaiting_review: 1, extra: true } } }, /repos\.mtor.*extra/],
    ];
    for (const [body, re] of bad) {
      const r = await put(body);
      expect({ body, status: r.status, code: r.body.error?.code }).toEqual({
        body,
        status: 400,
        code: "invalid_request",
      });
      expect(r.body.error.message).toMatch(re);
    }
    expect((await put({ max_awaiting_review: 3 }, "read")).status).toBe(403);
    expect((await settings()).max_awaiting_review).toBe(10);
  });

  it("answer text when asked, with the backlog", async () => {
    await put({ max_awaiting_review: 0, repos: { "r-text": { max_awaiting_review: 2 } } });
    const res = await api("/v1/settings", { headers: { accept: "text/plain" } });
    const text = await res.text();
    expect(text).toMatch(/^max_awaiting_review off/);
    expect(text).toMatch(/r-text\s+0\s+2/);
  });
});

describe("review backpressure", () => {
  it("a repo at its limit answers review_backlog; other repos still run; a decline resumes it", async () => {
    await put({ repos: { "r-one": { max_awaiting_review: 1 } } });
    const waiting = await toAwaitingReview("r-one", "p-one", "first of r-one");
    const held = await dispatchSpec("second of r-one", { repo: "r-one", provider: "p-one" });
    expect(await claim("ex-one", ["r-one"], "p-one")).toEqual({ runs: [], reason: "review_backlog" });
    // The same executor still gets work from a repo under its limit.
    const free = await dispatchSpec("other repo", { repo: "r-two", provider: "p-one" });
    const both = await claim("ex-one", ["r-one", "r-two"], "p-one");
    expect(both.runs.map((r) => r.spec_id)).toEqual([free]);

    const s = await settings();
    expect(s.review_backlog.repos.find((r) => r.repo === "r-one")).toEqual({
      repo: "r-one",
      awaiting_review: 1,
      max_awaiting_review: 1,
      holding: true,
    });
    expect((await api(`/v1/specs/${waiting}/decline`, { method: "POST", body: { note: "no" } })).status).toBe(
      200,
    );
    expect((await claim("ex-one", ["r-one"], "p-one")).runs.map((r) => r.spec_id)).toEqual([held]);
  });

  it("the fleet's limit holds every claim; status says so; a waiting claim wakes on approve", async () => {
    await put({ max_awaiting_review: 2 });
    const a = await toAwaitingReview("r-fleet", "p-fleet", "fleet a");
    await toAwaitingReview("r-fleet2", "p-fleet2", "fleet b");
    const queued = await dispatchSpec("fleet c", { repo: "r-fleet3", provider: "p-fleet3" });
    expect(await claim("ex-fleet3", ["r-fleet3"], "p-fleet3")).toEqual({
      runs: [],
      reason: "review_backlog",
    });

    const status = (await (await api("/v1/status")).json()) as StatusView;
    expect(status.review_backlog).toMatchObject({
      awaiting_review: 2,
      max_awaiting_review: 2,
      holding: true,
    });
    const text = await (await api("/v1/status", { headers: { accept: "text/plain" } })).text();
    expect(text).toContain("review backlog 2 of 2 — HOLDING new claims (review_backlog)");

    // A long-polling claim is answered as soon as the approve brings the backlog under 2.
    const waiting = claim("ex-fleet3", ["r-fleet3"], "p-fleet3", 20);
    const started = Date.now();
    expect((await api(`/v1/specs/${a}/approve`, { method: "POST", body: { grade: "A" } })).status).toBe(200);
    expect((await waiting).runs.map((r) => r.spec_id)).toEqual([queued]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("0 turns the fleet's limit off", async () => {
    // Specs earlier tests left awaiting review count too.
    const before = (await settings()).review_backlog.awaiting_review;
    await put({ max_awaiting_review: before + 1 });
    await toAwaitingReview("r-off", "p-off", "off a");
    const next = await dispatchSpec("off b", { repo: "r-off", provider: "p-off" });
    expect((await claim("ex-off", ["r-off"], "p-off")).reason).toBe("review_backlog");
    await put({ max_awaiting_review: 0 });
    expect((await claim("ex-off", ["r-off"], "p-off")).runs.map((r) => r.spec_id)).toEqual([next]);
  });

  it("a phone action link that approves lets claiming resume", async () => {
    await createWebhook({
      url: "https://hooks.example.com/phone",
      events: ["spec.verdict"],
      links_base: "https://mtor.example.com",
    });
    const r = receiver(() => new Response("ok"));
    try {
      await put({ repos: { "r-phone": { max_awaiting_review: 1 } } });
      await toAwaitingReview("r-phone", "p-phone", "phone a");
      await runAlarm();
      const links = JSON.parse(r.received.at(-1)?.body ?? "{}").data.actions as Record<string, string>;
      const next = await dispatchSpec("phone b", { repo: "r-phone", provider: "p-phone" });
      expect((await claim("ex-phone", ["r-phone"], "p-phone")).reason).toBe("review_backlog");
      const res = await SELF.fetch(links.approve.replace("https://mtor.example.com", "http://mtor.test"), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "",
      });
      expect(res.status).toBe(200);
      expect((await claim("ex-phone", ["r-phone"], "p-phone")).runs.map((x) => x.spec_id)).toEqual([next]);
    } finally {
      r.restore();
    }
  });
});

describe("run windows", () => {
  it("are validated with clear errors", async () => {
    const bad: [unknown, RegExp][] = [
      [{ window: "25:00-06:00" }, /window: must be "HH:MM-HH:MM"/],
      [{ window: "22:00-22:00" }, /window: start and end must differ/],
      [{ window: "22:00-06:00", window_zone: "Mars/Olympus" }, /window_zone: must be an IANA time zone/],
      [{ window_zone: "UTC" }, /has no window; set window/],
    ];
    for (const [body, re] of bad) {
      const r = await put(body);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      expect(r.body.error.message).toMatch(re);
    }
    const p = await api("/v1/providers/p-badwin", { method: "PUT", body: { window: "1-2" } });
    expect(p.status).toBe(400);
  });

  it("outside the fleet's window claims answer outside_window; the window opening lets the spec run", async () => {
    await at("2026-01-11T12:00:00Z");
    const r = await put({ window: "22:00-06:00", window_zone: "UTC" });
    expect(r.body.windows.fleet).toMatchObject({ open: false, next_change: "2026-01-11T22:00:00.000Z" });
    const id = await dispatchSpec("window wait", { repo: "r-win", provider: "p-win" });
    expect(await claim("ex-win", ["r-win"], "p-win")).toEqual({ runs: [], reason: "outside_window" });
    const status = await (await api("/v1/status", { headers: { accept: "text/plain" } })).text();
    expect(status).toContain(
      "fleet window 22:00-06:00 UTC: CLOSED — claims wait (outside_window) until 2026-01-11 22:00 UTC",
    );
    const report = await (await api("/v1/report", { headers: { accept: "text/plain" } })).text();
    expect(report).toMatch(/\d+ specs? queued waiting for a run window/);
    await at("2026-01-11T22:00:00Z");
    expect((await claim("ex-win", ["r-win"], "p-win")).runs.map((x) => x.spec_id)).toEqual([id]);
  });

  it("reads the window in its own time zone", async () => {
    // 21:30 UTC is 22:30 in Berlin in winter: inside 22:00-06:00 there, outside in UTC.
    await at("2026-01-11T21:30:00Z");
    expect(
      (await put({ window: "22:00-06:00", window_zone: "Europe/Berlin" })).body.windows.fleet?.open,
    ).toBe(true);
    expect((await put({ window_zone: "UTC" })).body.windows.fleet?.open).toBe(false);
  });

  it("a provider's window holds only that provider", async () => {
    await at("2026-01-11T12:00:00Z");
    const w = await api("/v1/providers/p-night", {
      method: "PUT",
      body: { window: "01:00-05:00", window_zone: "UTC" },
    });
    expect(w.status).toBe(200);
    await dispatchSpec("night only", { repo: "r-pw", provider: "p-night" });
    const day = await dispatchSpec("any time", { repo: "r-pw", provider: "p-day" });
    expect(await claim("ex-pw", ["r-pw"], "p-night")).toEqual({ runs: [], reason: "outside_window" });
    expect((await claim("ex-pw", ["r-pw"], "p-day")).runs.map((x) => x.spec_id)).toEqual([day]);
    expect((await settings()).windows.providers).toEqual([
      expect.objectContaining({ provider: "p-night", window: "01:00-05:00", open: false }),
    ]);
    // The PUT answers the window, and GET /v1/providers shows each provider's, as JSON and text.
    expect((await w.json()) as ProviderView).toMatchObject({
      name: "p-night",
      window: { window: "01:00-05:00", zone: "UTC", fit: false, open: false },
    });
    const list = (await (await api("/v1/providers")).json()) as { providers: ProviderView[] };
    expect(list.providers.find((p) => p.name === "p-night")?.window).toEqual({
      window: "01:00-05:00",
      zone: "UTC",
      fit: false,
      open: false,
      next_change: "2026-01-12T01:00:00.000Z",
    });
    expect(list.providers.find((p) => p.name === "p-day")?.window).toBeNull();
    const text = await (await api("/v1/providers", { headers: { accept: "text/plain" } })).text();
    expect(text).toMatch(/p-night .*01:00-05:00 UTC closed/);
  });

  it("with fit, a run whose timeout would outlast the window does not start; a shorter one does", async () => {
    await at("2026-01-12T05:30:00Z");
    await put({ window: "22:00-06:00", window_zone: "UTC", window_fit: true });
    const long = await dispatchSpec("long one", {
      repo: "r-fit",
      provider: "p-fit",
      timeout: "1h",
      priority: "5",
    });
    const short = await dispatchSpec("short one", { repo: "r-fit", provider: "p-fit", timeout: "10m" });
    expect((await claim("ex-fit", ["r-fit"], "p-fit")).runs.map((x) => x.spec_id)).toEqual([short]);
    expect(await claim("ex-fit", ["r-fit"], "p-fit")).toEqual({ runs: [], reason: "outside_window" });
    expect(((await (await api(`/v1/specs/${long}`)).json()) as { status: string }).status).toBe("queued");
  });
});
