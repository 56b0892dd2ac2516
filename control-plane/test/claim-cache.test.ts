// The Fleet keeps the night controls' settings row and the review backlog's hold in memory for
// claims. Each test first claims, so the cache is filled, then changes something a claim
// depends on, and the very next claim must see the change. (A phone action freeing the next
// claim is night-controls.test.ts's "a phone action link that approves lets claiming resume".)

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, claimFor, dispatchSpec, executorClient, startClock } from "./helpers";
import { sendVerdict, toAwaitingReview } from "./webhooks-helpers";

const client = executorClient();

const claim = (repo: string, provider: string) => claimFor(`ex-${provider}`, [repo], provider);

const putSettings = (body: unknown) => api("/v1/settings", { method: "PUT", body });

beforeAll(async () => {
  // 12:00 UTC, so windows below are closed or open by what they say.
  await startClock(Date.UTC(2026, 1, 3, 12, 0, 0));
});

afterEach(async () => {
  const off = { max_awaiting_review: null };
  await putSettings({ repos: { "c-set": off, "c-verdict": off } });
  await api("/v1/providers/c-win", { method: "PUT", body: { window: null } });
});

describe("claims read the night controls from memory, and see every change at once", () => {
  it("a settings write: a limit set holds the next claim, the limit removed frees it", async () => {
    await toAwaitingReview("c-set", "c-set", "set a");
    await dispatchSpec("set b", { repo: "c-set", provider: "c-set" });
    await putSettings({ repos: { "c-set": { max_awaiting_review: 2 } } });
    // Fills the cache with "not holding": one of two.
    const first = await claim("c-set", "c-set");
    expect(first.runs).toHaveLength(1);
    await sendVerdict(first.runs[0]!, { outcome: "failed", failure: { kind: "harness", message: "x" } });
    await dispatchSpec("set c", { repo: "c-set", provider: "c-set" });
    expect((await putSettings({ repos: { "c-set": { max_awaiting_review: 1 } } })).status).toBe(200);
    expect(await claim("c-set", "c-set")).toEqual({ runs: [], reason: "review_backlog" });
    expect((await putSettings({ repos: { "c-set": { max_awaiting_review: 0 } } })).status).toBe(200);
    expect((await claim("c-set", "c-set")).runs).toHaveLength(1);
  });

  it("a provider's window set through PUT /v1/providers closes the next claim, removed opens it", async () => {
    await dispatchSpec("win a", { repo: "c-win", provider: "c-win" });
    expect(await claim("c-win", "c-nothing")).toEqual({ runs: [], reason: "empty" });
    const closed = await api("/v1/providers/c-win", {
      method: "PUT",
      body: { window: "22:00-06:00", window_zone: "UTC" },
    });
    expect(closed.status).toBe(200);
    expect(await claim("c-win", "c-win")).toEqual({ runs: [], reason: "outside_window" });
    expect((await api("/v1/providers/c-win", { method: "PUT", body: { window: null } })).status).toBe(200);
    expect((await claim("c-win", "c-win")).runs).toHaveLength(1);
  });

  it("a new verdict that fills the backlog holds the next claim, a decline frees it", async () => {
    await putSettings({ repos: { "c-verdict": { max_awaiting_review: 1 } } });
    await dispatchSpec("verdict a", { repo: "c-verdict", provider: "c-verdict" });
    await dispatchSpec("verdict b", { repo: "c-verdict", provider: "c-verdict" });
    // The claim fills the cache with "not holding", then its verdict fills the backlog.
    const first = await claim("c-verdict", "c-verdict");
    expect(first.runs).toHaveLength(1);
    const run = first.runs[0]!;
    await client.heartbeat(run.run_id, { token: run.lease.token, phase: "claimed" });
    await sendVerdict(run, { outcome: "passed", branch: `mtor/${run.spec_id}-1` });
    expect(await claim("c-verdict", "c-verdict")).toEqual({ runs: [], reason: "review_backlog" });
    const declined = await api(`/v1/specs/${run.spec_id}/decline`, { method: "POST", body: { note: "no" } });
    expect(declined.status).toBe(200);
    expect((await claim("c-verdict", "c-verdict")).runs).toHaveLength(1);
  });
});
