// Lifecycle details: the cron monitor pass, long polls woken by freed slots, Idempotency-Key
// while in flight, and the backoff schedule.

import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { BACKOFF_MAX_MS, backoffMs } from "../src/fleet/backoff";
import worker from "../src/index";
import { api, claimBody, dispatchSpec, executorClient, fleet, specText, startClock, tick } from "./helpers";

const client = executorClient();

/** Runs the Worker's cron handler the way the trigger would. */
async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

beforeAll(async () => {
  await startClock();
});

describe("backoff", () => {
  it("starts at 1 min, doubles, caps at 30 min, with jitter of ±20 %", () => {
    expect(backoffMs(1, 0.5)).toBe(60_000);
    expect(backoffMs(2, 0.5)).toBe(120_000);
    expect(backoffMs(3, 0.5)).toBe(240_000);
    expect(backoffMs(1, 0)).toBe(48_000);
    expect(backoffMs(1, 0.999999)).toBeLessThan(72_001);
    expect(backoffMs(12, 0.5)).toBe(BACKOFF_MAX_MS);
    expect(backoffMs(12, 0.999999)).toBeLessThanOrEqual(BACKOFF_MAX_MS);
    expect(backoffMs(12, 0)).toBe(BACKOFF_MAX_MS * 0.8);
  });
});

describe("monitor pass from the cron trigger", () => {
  it("expires a lease without heartbeats and queues the spec again, no attempt charged", async () => {
    const id = await dispatchSpec("cron", { repo: "r-cron", provider: "p-cron" });
    const got = await client.claim(claimBody("ex-cron", { repos: ["r-cron"], providers: ["p-cron"] }));
    expect(got.ok && got.data.runs).toHaveLength(1);
    await tick(91_000);
    await cron();
    const queued = (await (await api(`/v1/specs/${id}`)).json()) as {
      status: string;
      attempt: number;
      max_attempt: number;
    };
    // The lost run keeps its attempt number; the budget grows by one to make up for it.
    expect(queued).toMatchObject({ status: "queued", attempt: 1, max_attempt: 4 });
  });
});

describe("long poll", () => {
  it("a claim waiting on no_slots answers as soon as a verdict frees the slot", async () => {
    await api("/v1/providers/p-lp", { method: "PUT", body: { slots: 1 } });
    const ex = { repos: ["r-lp"], providers: ["p-lp"] };
    await dispatchSpec("lp 1", { repo: "r-lp", provider: "p-lp" });
    const second = await dispatchSpec("lp 2", { repo: "r-lp", provider: "p-lp" });
    const first = await client.claim(claimBody("ex-lp-a", ex));
    const run = first.ok ? first.data.runs[0] : undefined;
    expect(run).toBeDefined();

    const started = Date.now();
    const waiting = client.claim(claimBody("ex-lp-b", ex, 1, 20));
    await fleet().now();
    await client.verdict(run!.run_id, {
      token: run!.lease.token,
      outcome: "passed",
      flags: [],
      duration_ms: 1,
    });
    const res = await waiting;
    expect(res.ok && res.data.runs.map((r) => r.spec_id)).toEqual([second]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a waiting claim is woken by thaw", async () => {
    const ex = { repos: ["r-thaw"], providers: ["p-thaw"] };
    const id = await dispatchSpec("thaw wakes", { repo: "r-thaw", provider: "p-thaw" });
    await api("/v1/freeze", { method: "POST" });
    const waiting = client.claim(claimBody("ex-thaw", ex, 1, 20));
    await fleet().now();
    await api("/v1/thaw", { method: "POST" });
    const res = await waiting;
    expect(res.ok && res.data.runs.map((r) => r.spec_id)).toEqual([id]);
  });
});

describe("Idempotency-Key under concurrency", () => {
  it("two requests with one key at once dispatch one spec: the second replays the first's answer", async () => {
    const text = specText("in flight", { repo: "r-inflight" });
    const send = () => api("/v1/specs", { body: text, headers: { "idempotency-key": "key-inflight" } });
    const [a, b] = await Promise.all([send(), send()]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const ids = [((await a.json()) as { id: string }).id, ((await b.json()) as { id: string }).id];
    expect(ids[0]).toBe(ids[1]);
    expect([a.headers.get("idempotent-replayed"), b.headers.get("idempotent-replayed")].sort()).toEqual([
      null,
      "true",
    ]);
  });
});
