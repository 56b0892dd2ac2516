// The executor protocol end to end: claim, heartbeat, verdict, and the lifecycle they drive.
import type { ClaimedRun, VerdictRequest } from "@mtor/schema/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, fleet, startClock, tick } from "./helpers";
import { runAlarm } from "./webhooks-helpers";

const client = executorClient();

/** Claims one run and picks it up with the first heartbeat, as an executor does at once. */
async function claimOne(executor: string, over: Parameters<typeof claimBody>[1] = {}): Promise<ClaimedRun> {
  const res = await client.claim(claimBody(executor, over));
  if (!res.ok) throw new Error(JSON.stringify(res.error));
  expect(res.data.runs).toHaveLength(1);
  const run = res.data.runs[0];
  const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "claimed" });
  if (!hb.ok) throw new Error(JSON.stringify(hb.error));
  return run;
}

const passed = (token: string, extra: Partial<VerdictRequest> = {}): VerdictRequest => ({
  token,
  outcome: "passed",
  flags: [],
  duration_ms: 1000,
  ...extra,
});

async function specStatus(
  id: string,
): Promise<{ status: string; attempt: number; runs: { outcome: string | null }[] }> {
  return (await (await api(`/v1/specs/${id}`)).json()) as never;
}

beforeAll(async () => {
  await startClock();
});

describe("claim", () => {
  it("leases the queued spec with provider, gates, feedback and a lease", async () => {
    const id = await dispatchSpec("claim basics", { repo: "r-claim", provider: "p-claim", model: "glm-5.1" });
    const run = await claimOne("ex-claim", { repos: ["r-claim"], providers: ["p-claim"] });
    expect(run.spec_id).toBe(id);
    expect(run.attempt).toBe(1);
    expect(run.provider).toEqual({ name: "p-claim", model: "glm-5.1", harness: null });
    expect(run.lease.ttl_s).toBe(90);
    expect(run.lease.token.length).toBeGreaterThan(16);
    expect(run.spec.title).toBe("claim basics");
    // The front matter as a spec writes it, defaults included.
    expect(run.spec).toMatchObject({ timeout: "2h", timeout_s: 7200, attempts: 3, priority: 0 });
    expect(run.gates.tests_extra).toEqual({ action: "reject", retry: false });
    expect(run.feedback).toEqual([]);
    expect(run.feedback_flags).toEqual([]);
    expect((await specStatus(id)).status).toBe("leased");

    const again = await client.claim(claimBody("ex-claim", { repos: ["r-claim"], providers: ["p-claim"] }));
    expect(again.ok && again.data).toEqual({ runs: [], reason: "empty" });
  });

  it("auto-creates an advertised provider with 2 slots and records the executor", async () => {
    await client.claim(claimBody("ex-auto", { providers: ["p-auto"], repos: ["r-auto"], host: "box-7" }));
    const providers = (await (await api("/v1/providers")).json()) as {
      providers: { name: string; slots: number }[];
    };
    expect(providers.providers.find((p) => p.name === "p-auto")).toMatchObject({ slots: 2 });
    const executors = (await (await api("/v1/executors")).json()) as {
      executors: { id: string; host: string }[];
    };
    expect(executors.executors.find((e) => e.id === "ex-auto")).toMatchObject({ host: "box-7" });
  });

  it("refuses a claim body that does not match the schema with 400 naming the field", async () => {
    const bad = { executor: { id: "x" }, free: 1 };
    const res = await fetchSigned("/v1/executor/claim", bad);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { errors: { field: string }[] } } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details.errors.map((e) => e.field)).toContain("executor.host");
  });

  it("a long-poll claim answers as soon as a spec is dispatched", async () => {
    const started = Date.now();
    const pending = client.claim(claimBody("ex-poll", { repos: ["r-poll"], providers: ["p-poll"] }, 1, 10));
    await fleet().now(); // the claim is in the Fleet's queue of requests before the dispatch
    const id = await dispatchSpec("long poll", { repo: "r-poll", provider: "p-poll" });
    const res = await pending;
    expect(res.ok && res.data.runs.map((r) => r.spec_id)).toEqual([id]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a long poll with nothing to do answers after wait_s with a reason", async () => {
    const res = await client.claim(
      claimBody("ex-idle", { repos: ["r-idle"], providers: ["p-idle"] }, 1, 0.2),
    );
    expect(res.ok && res.data).toEqual({ runs: [], reason: "empty" });
  });
});

describe("heartbeat and verdict", () => {
  it("a heartbeat renews the lease, moves the spec to running and answers cancel false", async () => {
    const id = await dispatchSpec("hb", { repo: "r-hb", provider: "p-hb" });
    const run = await claimOne("ex-hb", { repos: ["r-hb"], providers: ["p-hb"] });
    await tick(60_000);
    const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
    expect(hb.ok && hb.data.cancel).toBe(false);
    expect(hb.ok && Date.parse(hb.data.expires_at)).toBeGreaterThan(Date.parse(run.lease.expires_at));
    expect((await specStatus(id)).status).toBe("running");
    // Past the first expiry, but inside the renewed lease: still valid.
    await tick(60_000);
    const hb2 = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "gates" });
    expect(hb2.ok).toBe(true);
  });

  it("accepts phase names other executors send: past preflight is running", async () => {
    const id = await dispatchSpec("hb phases", { repo: "r-hb-phase", provider: "p-hb-phase" });
    const run = await claimOne("ex-hb-phase", { repos: ["r-hb-phase"], providers: ["p-hb-phase"] });
    const pre = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "preflight" });
    expect(pre.ok).toBe(true);
    expect((await specStatus(id)).status).toBe("leased");
    const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "running" });
    expect(hb.ok && hb.data.cancel).toBe(false);
    expect((await specStatus(id)).status).toBe("running");
    const empty = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "" });
    expect(empty.ok || empty.status).toBe(400);
  });

  it("a passed verdict moves the spec to awaiting_review, is idempotent, and writes spec.verdict to the outbox", async () => {
    const id = await dispatchSpec("verdict", { repo: "r-v", provider: "p-v" });
    const run = await claimOne("ex-v", { repos: ["r-v"], providers: ["p-v"] });
    const body = passed(run.lease.token, {
      branch: `mtor/${id}-1`,
      head_sha: "abc123",
      diffstat: { files: 1, insertions: 10, deletions: 2 },
      usage: { input_tokens: 10, output_tokens: 20, cost_usd: 0.01, turns: 3 },
      log_tail: "done",
      patch_id: "p1",
    });
    const v1 = await client.verdict(run.run_id, body);
    expect(v1.ok && v1.data).toEqual({ status: "awaiting_review" });
    const v2 = await client.verdict(run.run_id, body);
    expect(v2.ok && v2.data).toEqual({ status: "awaiting_review" });

    const detail = (await (await api(`/v1/specs/${id}`)).json()) as {
      status: string;
      runs: {
        branch: string;
        head_sha: string;
        diffstat: unknown;
        usage: unknown;
        log_tail: string;
        outcome: string;
      }[];
    };
    expect(detail.status).toBe("awaiting_review");
    expect(detail.runs[0]).toMatchObject({
      branch: `mtor/${id}-1`,
      head_sha: "abc123",
      log_tail: "done",
      outcome: "passed",
    });
    expect(detail.runs[0].usage).toEqual({ input_tokens: 10, output_tokens: 20, cost_usd: 0.01, turns: 3 });

    const events = await outbox();
    expect(events.filter((e) => e.type === "spec.verdict" && e.payload.spec_id === id)).toHaveLength(1);
  });

  it("stores the reviewer's grade and findings on the run, its usage apart, and sends the grade with spec.verdict", async () => {
    const id = await dispatchSpec("reviewed", { repo: "r-rv", provider: "p-rv" });
    const run = await claimOne("ex-rv", { repos: ["r-rv"], providers: ["p-rv"] });
    const review = {
      provider: "big",
      model: "big-1",
      grade: "B+",
      findings: [{ severity: "minor" as const, file: "src/a.ts", line: 3, note: "name the constant" }],
      summary: "does what was asked",
    };
    const usage = {
      input_tokens: 10,
      output_tokens: 20,
      cost_usd: 0.01,
      turns: 3,
      review: { input_tokens: 500, output_tokens: 60, cost_usd: 0.02 },
    };
    const v = await client.verdict(run.run_id, passed(run.lease.token, { usage, review }));
    expect(v.ok && v.data).toEqual({ status: "awaiting_review" });
    const detail = (await (await api(`/v1/specs/${id}`)).json()) as {
      runs: { review: unknown; usage: unknown }[];
    };
    expect(detail.runs[0].review).toEqual(review);
    expect(detail.runs[0].usage).toEqual(usage);
    const event = (await outbox()).find((e) => e.type === "spec.verdict" && e.payload.spec_id === id);
    expect(event?.payload).toMatchObject({ grade: "B+", review });

    // A reviewer that gave no grade is stored as such; the run passes on its gates.
    const id2 = await dispatchSpec("unreviewed", { repo: "r-rv", provider: "p-rv" });
    const run2 = await claimOne("ex-rv", { repos: ["r-rv"], providers: ["p-rv"] });
    const none = { provider: "big", findings: [], error: "no grade: the reviewer timed out after 120s" };
    await client.verdict(run2.run_id, passed(run2.lease.token, { review: none }));
    const d2 = (await (await api(`/v1/specs/${id2}`)).json()) as {
      status: string;
      runs: { review: unknown }[];
    };
    expect(d2.status).toBe("awaiting_review");
    expect(d2.runs[0].review).toEqual(none);
  });

  it("a verdict flagging protected_branch_touched writes run.security beside spec.verdict; a clean one does not", async () => {
    const id = await dispatchSpec("origin moved", { repo: "r-sec", provider: "p-sec" });
    const run = await claimOne("ex-sec", { repos: ["r-sec"], providers: ["p-sec"] });
    const flag = {
      gate: "protected_branch_touched" as const,
      action: "reject" as const,
      detail: "the origin's refs/heads/main moved from 1111111111 to 2222222222 during the run",
    };
    const v = await client.verdict(run.run_id, {
      token: run.lease.token,
      outcome: "rejected",
      flags: [flag, { gate: "tests_missing", action: "review", detail: "x" }],
      duration_ms: 1000,
    });
    expect(v.ok).toBe(true);
    const events = (await outbox()).filter((e) => e.payload.spec_id === id);
    const security = events.filter((e) => e.type === "run.security");
    expect(security).toHaveLength(1);
    expect(security[0].payload).toMatchObject({ run_id: run.run_id, executor: "ex-sec", flags: [flag] });
    expect(events.some((e) => e.type === "spec.verdict")).toBe(true);

    const clean = await dispatchSpec("clean", { repo: "r-sec", provider: "p-sec" });
    const run2 = await claimOne("ex-sec", { repos: ["r-sec"], providers: ["p-sec"] });
    await client.verdict(run2.run_id, passed(run2.lease.token));
    expect((await outbox()).filter((e) => e.type === "run.security" && e.payload.spec_id === clean)).toEqual(
      [],
    );
  });

  it("the next claim carries other specs' patch ids", async () => {
    await dispatchSpec("patch ids", { repo: "r-v", provider: "p-v" });
    const run = await claimOne("ex-v", { repos: ["r-v"], providers: ["p-v"] });
    expect(run.recent_patch_ids.some((p) => p.patch_id === "p1")).toBe(true);
    expect(run.recent_patch_ids.every((p) => p.spec_id !== run.spec_id)).toBe(true);
  });

  it("a stale token gets 409 lease_lost on heartbeat and verdict", async () => {
    await dispatchSpec("stale", { repo: "r-stale", provider: "p-stale" });
    const run = await claimOne("ex-stale", { repos: ["r-stale"], providers: ["p-stale"] });
    const hb = await client.heartbeat(run.run_id, { token: `${run.lease.token}x`, phase: "harness" });
    expect(hb).toMatchObject({ ok: false, status: 409, error: { code: "lease_lost" } });
    const v = await client.verdict(run.run_id, passed("lt_not-the-token"));
    expect(v).toMatchObject({ ok: false, status: 409, error: { code: "lease_lost" } });
  });

  it("a lease past its TTL without a heartbeat is no longer valid; the spec is queued again at once, no attempt charged", async () => {
    const id = await dispatchSpec("ttl", { repo: "r-ttl", provider: "p-ttl" });
    const run = await claimOne("ex-ttl", { repos: ["r-ttl"], providers: ["p-ttl"] });
    await tick(91_000);
    const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
    expect(hb).toMatchObject({ ok: false, status: 409, error: { code: "lease_lost" } });
    const v = await client.verdict(run.run_id, passed(run.lease.token));
    expect(v).toMatchObject({ ok: false, status: 409, error: { code: "lease_lost" } });
    // The alarm set at the lease's expiry takes it back.
    expect(await runAlarm()).toBe(true);
    const detail = (await (await api(`/v1/specs/${id}`)).json()) as {
      status: string;
      attempt: number;
      max_attempt: number;
      next_attempt_at: string | null;
      runs: { failure: { kind: string } }[];
    };
    // Not charged: the budget grows by one, and the next run gets a branch of its own.
    expect(detail).toMatchObject({ status: "queued", attempt: 1, max_attempt: 4, next_attempt_at: null });
    expect(detail.runs[0].failure.kind).toBe("lost_lease");
    expect((await claimOne("ex-ttl-2", { repos: ["r-ttl"], providers: ["p-ttl"] })).attempt).toBe(2);
  });

  it("a failed run backs off, the monitor requeues it, and the last attempt ends dead", async () => {
    const id = await dispatchSpec("backoff", { repo: "r-bo", provider: "p-bo", attempts: "2" });
    const ex = { repos: ["r-bo"], providers: ["p-bo"] };
    const run1 = await claimOne("ex-bo", ex);
    const failed = { outcome: "failed" as const, failure: { kind: "harness" as const, message: "crashed" } };
    expect(await client.verdict(run1.run_id, passed(run1.lease.token, failed))).toMatchObject({
      data: { status: "failed" },
    });
    const d1 = (await (await api(`/v1/specs/${id}`)).json()) as { next_attempt_at: string };
    const { nowMs } = await import("./helpers");
    const delay = Date.parse(d1.next_attempt_at) - nowMs();
    expect(delay).toBeGreaterThanOrEqual(48_000);
    expect(delay).toBeLessThanOrEqual(72_000);

    // Not claimable during the backoff, even after a monitor pass.
    await fleet().monitorPass();
    expect((await client.claim(claimBody("ex-bo", ex))).ok && (await specStatus(id)).status).toBe("failed");
    await tick(73_000);
    await fleet().monitorPass();
    expect((await specStatus(id)).status).toBe("queued");

    const run2 = await claimOne("ex-bo", ex);
    expect(run2.attempt).toBe(2);
    expect(await client.verdict(run2.run_id, passed(run2.lease.token, failed))).toMatchObject({
      data: { status: "dead" },
    });
    const events = await outbox();
    expect(events.filter((e) => e.payload.spec_id === id).map((e) => e.type)).toEqual([
      "spec.failed",
      "spec.dead",
    ]);
  });

  it("the first failure backs off 1 min also after a gate rejection; the second 2 min", async () => {
    const id = await dispatchSpec("reject then fail", { repo: "r-rjf", provider: "p-rjf", attempts: "4" });
    const ex = { repos: ["r-rjf"], providers: ["p-rjf"] };
    const { nowMs } = await import("./helpers");
    const delay = async () =>
      Date.parse(
        ((await (await api(`/v1/specs/${id}`)).json()) as { next_attempt_at: string }).next_attempt_at,
      ) - nowMs();
    const run1 = await claimOne("ex-rjf", ex);
    const flags = [
      { gate: "tests_missing" as const, action: "reject" as const, detail: "test_a was not added" },
    ];
    const v1 = await client.verdict(run1.run_id, passed(run1.lease.token, { outcome: "rejected", flags }));
    expect(v1.ok && v1.data.status).toBe("queued");

    const failed = { outcome: "failed" as const, failure: { kind: "harness" as const, message: "crashed" } };
    const run2 = await claimOne("ex-rjf", ex);
    expect(run2.attempt).toBe(2);
    await client.verdict(run2.run_id, passed(run2.lease.token, failed));
    const first = await delay();
    expect(first).toBeGreaterThanOrEqual(48_000);
    expect(first).toBeLessThanOrEqual(72_000);

    await tick(73_000);
    await fleet().monitorPass();
    const run3 = await claimOne("ex-rjf", ex);
    await client.verdict(run3.run_id, passed(run3.lease.token, failed));
    const second = await delay();
    expect(second).toBeGreaterThanOrEqual(96_000);
    expect(second).toBeLessThanOrEqual(144_000);
  });

  it("a gate rejection retries only when every rejecting gate has retry on, carrying the flags whole as feedback", async () => {
    const id = await dispatchSpec("reject retry", { repo: "r-rj", provider: "p-rj" });
    const ex = { repos: ["r-rj"], providers: ["p-rj"] };
    const run1 = await claimOne("ex-rj", ex);
    const flags = [
      {
        gate: "tests_missing" as const,
        action: "reject" as const,
        detail: "test_a was not added",
        facts: { kind: "tests_missing" as const, tests: ["test_a"] },
      },
      { gate: "out_of_scope" as const, action: "review" as const, detail: "docs/x.md" },
    ];
    const v1 = await client.verdict(run1.run_id, passed(run1.lease.token, { outcome: "rejected", flags }));
    expect(v1.ok && v1.data.status).toBe("queued");
    const run2 = await claimOne("ex-rj", ex);
    expect(run2.spec_id).toBe(id);
    // The rejecting flag comes back with its facts; a warning flag is no feedback; no note.
    expect(run2.feedback_flags).toEqual([flags[0]]);
    expect(run2.feedback).toEqual([]);

    const runaway = [
      ...flags,
      { gate: "tests_extra" as const, action: "reject" as const, detail: "5 extra tests" },
    ];
    const v2 = await client.verdict(
      run2.run_id,
      passed(run2.lease.token, { outcome: "rejected", flags: runaway }),
    );
    expect(v2.ok && v2.data.status).toBe("rejected");
  });

  it("killing a running spec makes the next heartbeat answer cancel: true", async () => {
    const id = await dispatchSpec("kill running", { repo: "r-kill", provider: "p-kill" });
    const run = await claimOne("ex-kill", { repos: ["r-kill"], providers: ["p-kill"] });
    await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
    const kill = await api(`/v1/specs/${id}/kill`, { method: "POST" });
    expect(kill.status).toBe(200);
    const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "harness" });
    expect(hb.ok && hb.data.cancel).toBe(true);
    const v = await client.verdict(
      run.run_id,
      passed(run.lease.token, { outcome: "failed", failure: { kind: "canceled", message: "told to stop" } }),
    );
    expect(v.ok && v.data.status).toBe("canceled");
  });

  it("kill cancels a spec awaiting review: any non-terminal state", async () => {
    const id = await dispatchSpec("kill review", { repo: "r-kill-review", provider: "p-kill-review" });
    const run = await claimOne("ex-kill-review", { repos: ["r-kill-review"], providers: ["p-kill-review"] });
    const v = await client.verdict(run.run_id, passed(run.lease.token));
    expect(v.ok && v.data.status).toBe("awaiting_review");
    const kill = await api(`/v1/specs/${id}/kill`, { method: "POST" });
    expect(kill.status).toBe(200);
    expect((await specStatus(id)).status).toBe("canceled");
  });

  it("reads a signed JSON body sent without a JSON Content-Type (fetch labels a string text/plain)", async () => {
    const { SELF } = await import("cloudflare:test");
    for (const type of [null, "text/plain;charset=UTF-8"]) {
      const signed = await client.signedRequest(
        "/v1/executor/claim",
        claimBody("ex-plain", { repos: ["r-plain"] }),
      );
      const headers = new Headers(signed.headers);
      if (type) headers.set("content-type", type);
      else headers.delete("content-type");
      const res = await SELF.fetch(signed.url, { method: "POST", headers, body: await signed.text() });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ runs: [], reason: "empty" });
    }
  });

  it("an unknown run id is 404", async () => {
    const res = await client.heartbeat("rnope", { token: "lt_x", phase: "harness" });
    expect(res).toMatchObject({ ok: false, status: 404, error: { code: "not_found" } });
  });
});

async function fetchSigned(path: string, body: unknown): Promise<Response> {
  const { SELF } = await import("cloudflare:test");
  return SELF.fetch(await client.signedRequest(path, body));
}

async function outbox(): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  const { env, runInDurableObject } = await import("cloudflare:test");
  const stub = env.FLEET.get(env.FLEET.idFromName("fleet"));
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec("SELECT type, payload FROM outbox ORDER BY id")
      .toArray()
      .map((r) => ({ type: r.type as string, payload: JSON.parse(r.payload as string) })),
  );
}
