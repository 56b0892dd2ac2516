// The dispatch rule: every skip reason keeps the spec queued and the claim says why.

import { env, runInDurableObject } from "cloudflare:test";
import type { ClaimedRun, ClaimResponse, ExecutorInfo, Phase, VerdictRequest } from "@mtor/schema/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, startClock, testFleet, tick } from "./helpers";

const client = executorClient();

/** Each test gets its own repo and provider, so tests in this file do not see each other's specs. */
function lane(name: string): Partial<ExecutorInfo> {
  return { repos: [`r-${name}`], providers: [`p-${name}`] };
}

async function claim(executor: string, over: Partial<ExecutorInfo>, free = 1): Promise<ClaimResponse> {
  const res = await client.claim(claimBody(executor, over, free));
  if (!res.ok) throw new Error(JSON.stringify(res.error));
  return res.data;
}

async function status(id: string): Promise<string> {
  return ((await (await api(`/v1/specs/${id}`)).json()) as { status: string }).status;
}

const verdict = (token: string, v: Partial<VerdictRequest>): VerdictRequest => ({
  token,
  outcome: "passed",
  flags: [],
  duration_ms: 1,
  ...v,
});

const providerFailure = (token: string) =>
  verdict(token, { outcome: "failed", failure: { kind: "provider", message: "upstream 529 overloaded" } });

async function provider(name: string): Promise<{
  effective_slots: number;
  breaker: { state: string; consecutive_failures: number };
  cooling: boolean;
  cooling_until: string | null;
}> {
  const list = (await (await api("/v1/providers")).json()) as { providers: { name: string }[] };
  return list.providers.find((p) => p.name === name) as never;
}

/**
 * Five specs on a lane of its own with four slots; three runs fail on the provider's side, so its
 * breaker opens (and the bad runs halve the effective slots to two); then the cooldown passes and
 * the one trial run is claimed. Returns the lane and the trial.
 */
async function halfOpenTrial(name: string): Promise<{ ex: Partial<ExecutorInfo>; trial: ClaimedRun }> {
  const ex = lane(name);
  await api(`/v1/providers/p-${name}`, { method: "PUT", body: { slots: 4 } });
  for (let i = 0; i < 5; i++)
    await dispatchSpec(`${name} ${i}`, { repo: `r-${name}`, provider: `p-${name}` });
  for (const r of (await claim(`ex-${name}`, ex, 3)).runs)
    await client.verdict(r.run_id, providerFailure(r.lease.token));
  expect((await provider(`p-${name}`)).breaker.state).toBe("open");
  await tick(5 * 60_000 + 1000);
  const trial = (await claim(`ex-${name}`, ex, 2)).runs;
  expect(trial).toHaveLength(1);
  return { ex, trial: trial[0] as ClaimedRun };
}

beforeAll(async () => {
  await startClock();
});

describe("skip reasons", () => {
  it("fleet frozen: no claims, dispatch still accepted; thaw lets it through", async () => {
    const ex = lane("frozen");
    await claim("ex-frozen", ex); // registers the provider
    expect((await api("/v1/freeze", { method: "POST" })).status).toBe(200);
    const id = await dispatchSpec("frozen", { repo: "r-frozen", provider: "p-frozen" });
    expect(await claim("ex-frozen", ex)).toEqual({ runs: [], reason: "frozen" });
    expect(await status(id)).toBe("queued");
    expect((await api("/v1/thaw", { method: "POST" })).status).toBe(200);
    expect((await claim("ex-frozen", ex)).runs.map((r) => r.spec_id)).toEqual([id]);
  });

  it("provider frozen", async () => {
    const ex = lane("pfrozen");
    await claim("ex-pfrozen", ex);
    expect((await api("/v1/providers/p-pfrozen/freeze", { method: "POST" })).status).toBe(200);
    const id = await dispatchSpec("pfrozen", { repo: "r-pfrozen", provider: "p-pfrozen" });
    expect(await claim("ex-pfrozen", ex)).toEqual({ runs: [], reason: "frozen" });
    expect(await status(id)).toBe("queued");
    await api("/v1/providers/p-pfrozen/thaw", { method: "POST" });
    expect((await claim("ex-pfrozen", ex)).runs).toHaveLength(1);
  });

  it("provider disabled", async () => {
    const ex = lane("disabled");
    await api("/v1/providers/p-disabled", { method: "PUT", body: { enabled: false } });
    const id = await dispatchSpec("disabled", { repo: "r-disabled", provider: "p-disabled" });
    expect(await claim("ex-disabled", ex)).toEqual({ runs: [], reason: "disabled" });
    expect(await status(id)).toBe("queued");
  });

  it("no free slot: slots count leased and running runs of all executors", async () => {
    const ex = lane("slots");
    await api("/v1/providers/p-slots", { method: "PUT", body: { slots: 1 } });
    const first = await dispatchSpec("slots 1", { repo: "r-slots", provider: "p-slots" });
    const second = await dispatchSpec("slots 2", { repo: "r-slots", provider: "p-slots" });
    expect((await claim("ex-slots-a", ex)).runs.map((r) => r.spec_id)).toEqual([first]);
    expect(await claim("ex-slots-b", ex)).toEqual({ runs: [], reason: "no_slots" });
    expect(await status(second)).toBe("queued");
  });

  it("breaker open after 3 provider failures; half-open lets one trial through; success closes it", async () => {
    const ex = lane("breaker");
    await api("/v1/providers/p-breaker", { method: "PUT", body: { slots: 4 } });
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(await dispatchSpec(`breaker ${i}`, { repo: "r-breaker", provider: "p-breaker" }));
    const runs = (await claim("ex-breaker", ex, 3)).runs;
    expect(runs).toHaveLength(3);
    for (const r of runs) await client.verdict(r.run_id, providerFailure(r.lease.token));
    expect((await provider("p-breaker")).breaker).toMatchObject({ state: "open", consecutive_failures: 3 });
    const tripped = await outboxEvents("provider.tripped");
    expect(tripped.filter((p) => p.provider === "p-breaker")).toHaveLength(1);

    expect(await claim("ex-breaker", ex)).toEqual({ runs: [], reason: "breaker_open" });
    expect(await status(ids[3])).toBe("queued");

    await tick(5 * 60_000 + 1000);
    const trial = await claim("ex-breaker", ex, 3);
    expect(trial.runs).toHaveLength(1);
    expect(await claim("ex-breaker", ex)).toEqual({ runs: [], reason: "breaker_open" });
    await client.verdict(trial.runs[0].run_id, verdict(trial.runs[0].lease.token, {}));
    expect((await provider("p-breaker")).breaker.state).toBe("closed");
    expect((await claim("ex-breaker", ex)).runs).toHaveLength(1);
  });

  it("a failed half-open trial reopens the breaker for twice as long", async () => {
    const ex = lane("reopen");
    await api("/v1/providers/p-reopen", { method: "PUT", body: { slots: 4 } });
    for (let i = 0; i < 6; i++) await dispatchSpec(`reopen ${i}`, { repo: "r-reopen", provider: "p-reopen" });
    for (const r of (await claim("ex-reopen", ex, 3)).runs)
      await client.verdict(r.run_id, providerFailure(r.lease.token));
    await tick(5 * 60_000 + 1000);
    const trial = (await claim("ex-reopen", ex)).runs[0];
    await client.verdict(trial.run_id, providerFailure(trial.lease.token));
    expect((await provider("p-reopen")).breaker.state).toBe("open");
    await tick(5 * 60_000 + 1000);
    expect(await claim("ex-reopen", ex)).toEqual({ runs: [], reason: "breaker_open" });
    await tick(5 * 60_000);
    expect((await claim("ex-reopen", ex)).runs).toHaveLength(1);
  });

  it("a half-open trial whose preflight passes closes the breaker while the trial runs on", async () => {
    const { ex, trial } = await halfOpenTrial("trialpf");
    const hb = (phase: Phase) => client.heartbeat(trial.run_id, { token: trial.lease.token, phase });
    // Still preflighting: the provider has not answered yet, the other slot waits.
    expect((await hb("preparing")).ok).toBe(true);
    expect(await claim("ex-trialpf", ex)).toEqual({ runs: [], reason: "breaker_open" });
    // The preflight passed: the provider answered, the breaker closes and the other slot works.
    expect((await hb("harness")).ok).toBe(true);
    expect((await provider("p-trialpf")).breaker).toMatchObject({ state: "closed", consecutive_failures: 0 });
    expect((await claim("ex-trialpf", ex)).runs).toHaveLength(1);
    // The trial failing later with a provider error counts as one failure, not a reopening.
    await client.verdict(trial.run_id, providerFailure(trial.lease.token));
    expect((await provider("p-trialpf")).breaker).toMatchObject({ state: "closed", consecutive_failures: 1 });
  });

  it("a half-open trial whose preflight fails reopens the breaker: reporting a failed preflight closes nothing", async () => {
    const { trial } = await halfOpenTrial("trialfail");
    // The executor's heartbeats for a run whose preflight fails: preparing, then reporting.
    await client.heartbeat(trial.run_id, { token: trial.lease.token, phase: "preparing" });
    await client.heartbeat(trial.run_id, { token: trial.lease.token, phase: "reporting" });
    await client.verdict(
      trial.run_id,
      verdict(trial.lease.token, { outcome: "failed", failure: { kind: "preflight", message: "no answer" } }),
    );
    expect((await provider("p-trialfail")).breaker).toMatchObject({ state: "open", consecutive_failures: 4 });
  });

  it("a passed preflight ends the provider's failure streak: failures either side of it are not consecutive", async () => {
    const ex = lane("streak");
    await api("/v1/providers/p-streak", { method: "PUT", body: { slots: 4 } });
    for (let i = 0; i < 5; i++) await dispatchSpec(`streak ${i}`, { repo: "r-streak", provider: "p-streak" });
    const runs = (await claim("ex-streak", ex, 4)).runs;
    expect(runs).toHaveLength(4);
    const [a, b, ok, c] = runs;
    await client.verdict(a.run_id, providerFailure(a.lease.token));
    await client.verdict(b.run_id, providerFailure(b.lease.token));
    expect((await provider("p-streak")).breaker.consecutive_failures).toBe(2);
    await client.heartbeat(ok.run_id, { token: ok.lease.token, phase: "harness" });
    expect((await provider("p-streak")).breaker.consecutive_failures).toBe(0);
    await client.verdict(c.run_id, providerFailure(c.lease.token));
    expect((await provider("p-streak")).breaker).toMatchObject({ state: "closed", consecutive_failures: 1 });
  });

  it("a claim waiting on a half-open breaker is answered when the trial's preflight passes", {
    timeout: 30_000,
  }, async () => {
    const { ex, trial } = await halfOpenTrial("trialwake");
    // A long poll of 20 s: the clock is held still here, so only the heartbeat can wake it.
    const started = Date.now();
    const waiting = client.claim(claimBody("ex-trialwake-2", ex, 1, 20));
    await client.heartbeat(trial.run_id, { token: trial.lease.token, phase: "harness" });
    const answered = await waiting;
    if (!answered.ok) throw new Error(JSON.stringify(answered.error));
    expect(answered.data.runs).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("cooling after rate_limited with retry_after_s, until then", async () => {
    const ex = lane("cool");
    await dispatchSpec("cool 1", { repo: "r-cool", provider: "p-cool" });
    const waiting = await dispatchSpec("cool 2", { repo: "r-cool", provider: "p-cool" });
    const run = (await claim("ex-cool", ex)).runs[0];
    await client.verdict(
      run.run_id,
      verdict(run.lease.token, {
        outcome: "failed",
        failure: { kind: "rate_limited", message: "429", retry_after_s: 120 },
      }),
    );
    expect((await provider("p-cool")).cooling_until).not.toBeNull();
    // docs/api.md lists "cooling" among a provider's fields.
    expect((await provider("p-cool")).cooling).toBe(true);
    expect(await claim("ex-cool", ex)).toEqual({ runs: [], reason: "cooling" });
    expect(await status(waiting)).toBe("queued");
    await tick(121_000);
    expect(await provider("p-cool")).toMatchObject({ cooling: false, cooling_until: null });
    expect((await claim("ex-cool", ex)).runs.map((r) => r.spec_id)).toEqual([waiting]);
  });

  it("overloaded executor: cpu above 1.5 or mem_free below 0.1", async () => {
    const id = await dispatchSpec("load", { repo: "r-load", provider: "p-load" });
    const ex = lane("load");
    expect(await claim("ex-load", { ...ex, load: { cpu: 1.6, mem_free: 0.5 } })).toEqual({
      runs: [],
      reason: "overloaded",
    });
    expect(await claim("ex-load", { ...ex, load: { cpu: 0.5, mem_free: 0.05 } })).toEqual({
      runs: [],
      reason: "overloaded",
    });
    expect(await status(id)).toBe("queued");
    expect((await claim("ex-load", { ...ex, load: { cpu: 1.4, mem_free: 0.2 } })).runs).toHaveLength(1);
  });

  it("draining executor gets nothing until undrained", async () => {
    const ex = lane("drain");
    await claim("ex-drain", ex);
    expect((await api("/v1/executors/ex-drain/drain", { method: "POST" })).status).toBe(200);
    const id = await dispatchSpec("drain", { repo: "r-drain", provider: "p-drain" });
    expect(await claim("ex-drain", ex)).toEqual({ runs: [], reason: "draining" });
    expect(await status(id)).toBe("queued");
    await api("/v1/executors/ex-drain/undrain", { method: "POST" });
    expect((await claim("ex-drain", ex)).runs).toHaveLength(1);
  });

  it("unmet `after`: blocked until the named spec is approved", async () => {
    const ex = lane("after");
    const first = await dispatchSpec("after first", { repo: "r-after", provider: "p-after" });
    const second = await dispatchSpec("after second", {
      repo: "r-after",
      provider: "p-after",
      after: `[${first}]`,
    });
    const run = (await claim("ex-after", ex)).runs[0];
    expect(run.spec_id).toBe(first);
    expect(await claim("ex-after", ex)).toEqual({ runs: [], reason: "blocked" });
    await client.verdict(run.run_id, verdict(run.lease.token, {}));
    expect(await claim("ex-after", ex)).toEqual({ runs: [], reason: "blocked" });
    expect(await status(second)).toBe("queued");
    expect((await api(`/v1/specs/${first}/approve`, { method: "POST", body: { grade: "A" } })).status).toBe(
      200,
    );
    expect((await claim("ex-after", ex)).runs.map((r) => r.spec_id)).toEqual([second]);
  });

  it("repo not served, provider not served: the executor's queue is empty", async () => {
    const repoSpec = await dispatchSpec("repo", { repo: "r-other", provider: "p-served" });
    expect(await claim("ex-served", { repos: ["r-served"], providers: ["p-served"] })).toEqual({
      runs: [],
      reason: "empty",
    });
    const providerSpec = await dispatchSpec("provider", { repo: "r-served2", provider: "p-unserved" });
    expect(await claim("ex-served2", { repos: ["r-served2"], providers: ["p-served"] })).toEqual({
      runs: [],
      reason: "empty",
    });
    expect(await status(repoSpec)).toBe("queued");
    expect(await status(providerSpec)).toBe("queued");
  });

  it("provider: any goes to a provider the executor serves", async () => {
    const id = await dispatchSpec("any", { repo: "r-any" });
    const got = await claim("ex-any", { repos: ["r-any"], providers: ["p-any-1", "p-any-2"] });
    expect(got.runs.map((r) => r.spec_id)).toEqual([id]);
    expect(["p-any-1", "p-any-2"]).toContain(got.runs[0].provider.name);
  });

  it("higher priority first, then oldest first", async () => {
    const ex = lane("prio");
    await api("/v1/providers/p-prio", { method: "PUT", body: { slots: 10 } });
    const low = await dispatchSpec("low", { repo: "r-prio", provider: "p-prio" });
    await tick(1000);
    const high = await dispatchSpec("high", { repo: "r-prio", provider: "p-prio", priority: "5" });
    await tick(1000);
    const low2 = await dispatchSpec("low 2", { repo: "r-prio", provider: "p-prio" });
    const got = await claim("ex-prio", ex, 3);
    expect(got.runs.map((r) => r.spec_id)).toEqual([high, low, low2]);
  });
});

async function seedCopies(template: string, queued: number): Promise<void> {
  const r = await testFleet().benchSeed({ template, queued });
  if (!r.ok) throw new Error(r.error.message);
}

describe("no starvation: a claimable spec is found whatever sits ahead of it", () => {
  it("behind 600 higher-priority specs for a repo and a provider this executor does not serve", async () => {
    const ex = lane("starve");
    await claim("ex-starve", ex);
    const otherRepo = await dispatchSpec("other repo", {
      repo: "r-starve-x",
      provider: "p-starve",
      priority: "9",
    });
    const otherProvider = await dispatchSpec("other provider", {
      repo: "r-starve",
      provider: "p-starve-x",
      priority: "9",
    });
    await seedCopies(otherRepo, 600);
    await seedCopies(otherProvider, 600);
    const mine = await dispatchSpec("mine", { repo: "r-starve", provider: "p-starve", priority: "-5" });
    expect((await claim("ex-starve", ex)).runs.map((r) => r.spec_id)).toEqual([mine]);
  });

  it("behind 600 older blocked specs of its own lane", async () => {
    const ex = lane("starveb");
    await claim("ex-starveb", ex);
    const gate = await dispatchSpec("never approved", { repo: "r-elsewhere", provider: "p-starveb" });
    const blocked = await dispatchSpec("blocked", {
      repo: "r-starveb",
      provider: "p-starveb",
      priority: "3",
      after: `[${gate}]`,
    });
    await seedCopies(blocked, 600);
    const free = await dispatchSpec("free", { repo: "r-starveb", provider: "p-starveb" });
    expect((await claim("ex-starveb", ex)).runs.map((r) => r.spec_id)).toEqual([free]);
    // With nothing claimable left, the claim names why the first spec it could serve waits.
    expect(await claim("ex-starveb", ex)).toEqual({ runs: [], reason: "blocked" });
  });

  it("behind 600 specs whose provider has no free slot, a spec for `any` goes to a free one", async () => {
    const ex = { repos: ["r-starvef"], providers: ["p-starvef-full", "p-starvef-free"] };
    await claim("ex-starvef", ex, 0);
    await api("/v1/providers/p-starvef-full", { method: "PUT", body: { slots: 1 } });
    const first = await dispatchSpec("fills the slot", {
      repo: "r-starvef",
      provider: "p-starvef-full",
      priority: "9",
    });
    expect((await claim("ex-starvef", ex)).runs.map((r) => r.spec_id)).toEqual([first]);
    const waiting = await dispatchSpec("waits for the slot", {
      repo: "r-starvef",
      provider: "p-starvef-full",
      priority: "9",
    });
    await seedCopies(waiting, 600);
    const any = await dispatchSpec("any", { repo: "r-starvef", provider: "any" });
    const got = (await claim("ex-starvef", ex)).runs;
    expect(got.map((r) => [r.spec_id, r.provider.name])).toEqual([[any, "p-starvef-free"]]);
  });
});

describe("effective slots", () => {
  it("two bad runs in a row halve the effective slots; a pass adds one back", async () => {
    const ex = lane("eff");
    await api("/v1/providers/p-eff", { method: "PUT", body: { slots: 4 } });
    for (let i = 0; i < 6; i++) await dispatchSpec(`eff ${i}`, { repo: "r-eff", provider: "p-eff" });
    const runs = (await claim("ex-eff", ex, 3)).runs;
    const harness = { outcome: "failed" as const, failure: { kind: "harness" as const, message: "exit 1" } };
    await client.verdict(runs[0].run_id, verdict(runs[0].lease.token, harness));
    await client.verdict(runs[1].run_id, verdict(runs[1].lease.token, { outcome: "rejected", flags: [] }));
    expect((await provider("p-eff")).effective_slots).toBe(2);
    // One run still holds a slot of the two: one more fits, not two.
    expect((await claim("ex-eff", ex, 3)).runs).toHaveLength(1);
    await client.verdict(runs[2].run_id, verdict(runs[2].lease.token, {}));
    expect((await provider("p-eff")).effective_slots).toBe(3);
  });
});

async function outboxEvents(type: string): Promise<Record<string, unknown>[]> {
  const stub = env.FLEET.get(env.FLEET.idFromName("fleet"));
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec("SELECT payload FROM outbox WHERE type = ? ORDER BY id", type)
      .toArray()
      .map((r) => JSON.parse(r.payload as string) as Record<string, unknown>),
  );
}
