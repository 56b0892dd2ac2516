// Lost leases: the alarm set at the earliest expiry takes them back, a claim nobody picked up
// returns within seconds, a restarted executor's orphaned run is requeued, none of it charges
// an attempt (max_attempt rises by one instead) though the next run gets a new attempt number
// and so a new branch, and lost leases in a row hold the spec once they weigh three (each 1/k
// when its executor process lost k started runs at once).
import { type ClaimedRun, type Failure, ORPHANED_RUN_FAILURE } from "@mtor/schema/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_LOST_LEASES, PICKUP_S } from "../src/fleet/leases";
import { api, claimBody, dispatchSpec, executorClient, nowMs, startClock, tick } from "./helpers";
import { monitorPass, runAlarm } from "./webhooks-helpers";

const client = executorClient();

interface Detail {
  status: string;
  attempt: number;
  max_attempt: number;
  next_attempt_at: string | null;
  runs: { attempt: number; failure: { kind: string; message: string } | null }[];
}

async function detail(id: string): Promise<Detail> {
  return (await (await api(`/v1/specs/${id}`)).json()) as Detail;
}

async function claim(executor: string, lane: string): Promise<ClaimedRun> {
  const r = await client.claim(claimBody(executor, { repos: [`r-${lane}`], providers: [`p-${lane}`] }));
  if (!r.ok || r.data.runs.length !== 1) throw new Error(`claim: ${JSON.stringify(r)}`);
  return r.data.runs[0];
}

/** What a restarted executor reports for a run its crash left unfinished. */
const ORPHANED = ORPHANED_RUN_FAILURE;
const GAVE_UP = { kind: "harness", message: "the agent gave up" } as const;

/** Reports `run` failed with `failure`. */
function fail(run: ClaimedRun, failure: Failure, extra: { branch?: string } = {}) {
  return client.verdict(run.run_id, {
    token: run.lease.token,
    outcome: "failed",
    flags: [],
    failure,
    duration_ms: 5000,
    ...extra,
  });
}

async function pickUp(run: ClaimedRun): Promise<void> {
  const hb = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "claimed" });
  if (!hb.ok) throw new Error(`heartbeat: ${JSON.stringify(hb.error)}`);
}

beforeAll(async () => {
  await startClock(Date.UTC(2026, 0, 14, 22, 0, 0));
});

describe("lost leases", () => {
  it("a claim nobody picks up holds the spec only until PICKUP_S, then the alarm queues it again uncharged", async () => {
    const id = await dispatchSpec("unpicked", { repo: "r-unpicked", provider: "p-unpicked" });
    const run = await claim("ex-gone", "unpicked");
    await tick((PICKUP_S - 1) * 1000);
    expect(await runAlarm()).toBe(true);
    expect((await detail(id)).status).toBe("leased");
    await tick(2000);
    expect(await runAlarm()).toBe(true);
    const d = await detail(id);
    expect(d).toMatchObject({ status: "queued", attempt: 1, max_attempt: 4, next_attempt_at: null });
    expect(d.runs[0].failure).toMatchObject({ kind: "lost_lease" });
    expect(d.runs[0].failure?.message).toContain("never picked the run up");
    // The executor that was gone cannot come back to it.
    const late = await client.heartbeat(run.run_id, { token: run.lease.token, phase: "claimed" });
    expect(late).toMatchObject({ ok: false, status: 409, error: { code: "lease_lost" } });
    const again = await claim("ex-alive", "unpicked");
    expect(again).toMatchObject({ spec_id: id, attempt: 2 });
  });

  it("the first heartbeat gives the lease its full TTL", async () => {
    const id = await dispatchSpec("picked", { repo: "r-picked", provider: "p-picked" });
    const run = await claim("ex-picked", "picked");
    await pickUp(run);
    await tick(60_000);
    await runAlarm();
    expect((await detail(id)).status).toBe("leased");
  });

  it("a lease that runs out is taken back by the alarm at its expiry, no monitor pass needed", async () => {
    const id = await dispatchSpec("alarm expiry", { repo: "r-alarm", provider: "p-alarm" });
    const run = await claim("ex-alarm", "alarm");
    await pickUp(run);
    await tick(91_000);
    expect(await runAlarm()).toBe(true);
    expect(await detail(id)).toMatchObject({ status: "queued", attempt: 1, max_attempt: 4 });
  });

  it("a run a restarted executor reports as lost is queued again at once, no attempt charged", async () => {
    const id = await dispatchSpec("orphan", { repo: "r-orphan", provider: "p-orphan" });
    const run = await claim("ex-orphan", "orphan");
    await pickUp(run);
    const v = await fail(run, ORPHANED);
    expect(v.ok && v.data.status).toBe("queued");
    expect(await detail(id)).toMatchObject({
      status: "queued",
      attempt: 1,
      max_attempt: 4,
      next_attempt_at: null,
    });
    expect((await claim("ex-orphan", "orphan")).attempt).toBe(2);
  });

  it(`after ${MAX_LOST_LEASES} lost leases in a row the spec is held dead with the reason`, async () => {
    const id = await dispatchSpec("killer", { repo: "r-killer", provider: "p-killer" });
    for (let i = 1; i <= MAX_LOST_LEASES; i++) {
      const run = await claim(`ex-killer-${i}`, "killer");
      expect(run.attempt).toBe(i);
      await pickUp(run);
      await tick(91_000);
      await runAlarm();
      expect((await detail(id)).status).toBe(i < MAX_LOST_LEASES ? "queued" : "dead");
    }
    const d = await detail(id);
    expect(d.runs.at(-1)?.failure?.message).toContain(`held after ${MAX_LOST_LEASES} lost leases in a row`);
    // An operator retry gives it a fresh start: the streak begins again.
    expect((await api(`/v1/specs/${id}/retry`, { method: "POST", body: {} })).status).toBe(200);
    expect((await detail(id)).status).toBe("queued");
    const run = await claim("ex-killer-again", "killer");
    expect(run.attempt).toBe(MAX_LOST_LEASES + 1);
    await pickUp(run);
    await tick(91_000);
    await runAlarm();
    expect((await detail(id)).status).toBe("queued");
  });

  it("the run after a lost one gets its own attempt number and branch, and the lost one charges nothing", async () => {
    // One attempt only: if the lost run were charged, the failure after it would be final
    // without a second try; it is final because the one charged attempt failed.
    const id = await dispatchSpec("own branch", { repo: "r-branch", provider: "p-branch", attempts: "1" });
    const lost = await claim("ex-branch-1", "branch");
    await pickUp(lost);
    // The lost run had pushed its branch before its executor died.
    const gone = await fail(lost, ORPHANED, { branch: `mtor/${id}-${lost.attempt}` });
    expect(gone.ok && gone.data.status).toBe("queued");
    const next = await claim("ex-branch-2", "branch");
    expect(next.attempt).toBe(lost.attempt + 1);
    await pickUp(next);
    const v = await client.verdict(next.run_id, {
      token: next.lease.token,
      outcome: "passed",
      flags: [],
      branch: `mtor/${id}-${next.attempt}`,
      duration_ms: 5000,
    });
    expect(v.ok && v.data.status).toBe("awaiting_review");
    const d = await detail(id);
    expect(d).toMatchObject({ status: "awaiting_review", attempt: 2, max_attempt: 2 });
    expect(d.runs.map((r) => r.attempt)).toEqual([1, 2]);

    const once = await dispatchSpec("one charged attempt", {
      repo: "r-branch",
      provider: "p-branch",
      attempts: "1",
    });
    const lostAgain = await claim("ex-branch-3", "branch");
    expect(lostAgain.spec_id).toBe(once);
    await pickUp(lostAgain);
    await tick(91_000);
    await runAlarm();
    const failing = await claim("ex-branch-4", "branch");
    expect(failing).toMatchObject({ spec_id: once, attempt: 2 });
    const f = await fail(failing, GAVE_UP);
    expect(f.ok && f.data.status).toBe("dead");
  });

  it("a lost lease between two failures neither counts for the backoff nor breaks its doubling", async () => {
    const id = await dispatchSpec("backoff", { repo: "r-backoff", provider: "p-backoff" });
    /** Runs the spec on `executor` to a failure; answers the backoff it got (ms). */
    const backoff = async (executor: string) => {
      const run = await claim(executor, "backoff");
      await pickUp(run);
      const v = await fail(run, GAVE_UP);
      expect(v.ok && v.data.status).toBe("failed");
      const d = await detail(id);
      return Date.parse(d.next_attempt_at as string) - nowMs();
    };
    // The first failure backs off 48-72 s (60 s ± 20 %), the second 96-144 s.
    const first = await backoff("ex-backoff-1");
    expect(first).toBeGreaterThanOrEqual(48_000);
    expect(first).toBeLessThanOrEqual(72_000);
    await tick(first);
    await monitorPass();
    expect((await detail(id)).status).toBe("queued");
    const lost = await claim("ex-backoff-2", "backoff");
    await pickUp(lost);
    await tick(91_000);
    await runAlarm();
    expect(await detail(id)).toMatchObject({ status: "queued", attempt: 2, max_attempt: 4 });
    const second = await backoff("ex-backoff-3");
    expect(second).toBeGreaterThanOrEqual(96_000);
    expect(second).toBeLessThanOrEqual(144_000);
  });
});

describe("a restarted executor process", () => {
  const BOOT_1 = "0d7c1b5e-1111-4a3e-9d55-000000000001";
  const BOOT_2 = "0d7c1b5e-2222-4a3e-9d55-000000000002";

  /** A claim by `executor` for `lane`, as the process `boot` (replacing `previous`). */
  async function claimAs(
    executor: string,
    lane: string,
    boot: string,
    restart: { previous_boot?: string; resumed?: string[] } = {},
    free = 1,
    signer = client,
  ) {
    return signer.claim(
      claimBody(executor, { repos: [`r-${lane}`], providers: [`p-${lane}`], boot, ...restart }, free),
    );
  }

  async function runsOf(executor: string, lane: string, boot: string, free: number): Promise<ClaimedRun[]> {
    const r = await claimAs(executor, lane, boot, {}, free);
    if (!r.ok || r.data.runs.length !== free) throw new Error(`claim: ${JSON.stringify(r)}`);
    return r.data.runs;
  }

  it("ends its earlier process's runs at its first claim, picked up or not, except those it resumes, without waiting for their leases", async () => {
    await api("/v1/providers/p-reboot", { method: "PUT", body: { slots: 4 } });
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(await dispatchSpec(`reboot ${i}`, { repo: "r-reboot", provider: "p-reboot" }));
    const [worked, resumed, handed] = await runsOf("ex-reboot", "reboot", BOOT_1, 3);
    await pickUp(worked);
    await pickUp(resumed);
    // `handed` went to a long poll the process never read: no heartbeat ever came.
    // The process dies; its successor starts at once, long before any lease runs out.
    await tick(1000);
    const first = await claimAs(
      "ex-reboot",
      "reboot",
      BOOT_2,
      { previous_boot: BOOT_1, resumed: [resumed.run_id] },
      0,
    );
    expect(first.ok).toBe(true);
    const byRun = new Map<string, Detail>();
    for (const id of ids) {
      const d = await detail(id);
      byRun.set(id, d);
    }
    const workedSpec = byRun.get(worked.spec_id) as Detail;
    expect(workedSpec).toMatchObject({ status: "queued", attempt: 1, max_attempt: 4 });
    expect(workedSpec.runs[0].failure).toMatchObject({ kind: "lost_lease" });
    expect(workedSpec.runs[0].failure?.message).toContain(`executor ex-reboot restarted`);
    expect(workedSpec.runs[0].failure?.message).toContain(BOOT_1);
    const handedSpec = byRun.get(handed.spec_id) as Detail;
    expect(handedSpec.status).toBe("queued");
    expect(handedSpec.runs[0].failure?.message).toContain("never picked it up");
    // The run the new process carries on is untouched, and its heartbeats still hold.
    expect((byRun.get(resumed.spec_id) as Detail).status).toBe("leased");
    const hb = await client.heartbeat(resumed.run_id, { token: resumed.lease.token, phase: "harness" });
    expect(hb.ok).toBe(true);
    // The ended runs' late reports are refused: their process is gone.
    const late = await client.heartbeat(worked.run_id, { token: worked.lease.token, phase: "harness" });
    expect(late).toMatchObject({ ok: false, status: 409, error: { code: "lease_lost" } });
    // The new process gets the two specs back straight away, as the next attempts.
    const again = await runsOf("ex-reboot", "reboot", BOOT_2, 2);
    expect(again.map((r) => r.spec_id).sort()).toEqual([worked.spec_id, handed.spec_id].sort());
    expect(again.every((r) => r.attempt === 2)).toBe(true);
  });

  it("a claim still waiting for the process that is gone gets nothing; the new process gets the work", async () => {
    const id = await dispatchSpec("reboot-wait", { repo: "r-rebootwait", provider: "p-rebootwait" });
    // The old process claimed once with nothing free, so the Fleet knows its boot.
    expect((await claimAs("ex-rebootwait", "rebootwait", BOOT_1, {}, 0)).ok).toBe(true);
    expect((await claimAs("ex-rebootwait", "rebootwait", BOOT_2, { previous_boot: BOOT_1 }, 0)).ok).toBe(
      true,
    );
    // What the old process's long poll would see on waking: no run, though one is queued.
    const stale = await claimAs("ex-rebootwait", "rebootwait", BOOT_1);
    expect(stale).toMatchObject({ ok: true, data: { runs: [], reason: "draining" } });
    // Under another live key the same claim is refused outright, retired boot or not.
    const otherKey = executorClient({ keyId: "k2", secret: "test-secret-two" });
    expect(await claimAs("ex-rebootwait", "rebootwait", BOOT_1, {}, 1, otherKey)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect((await detail(id)).status).toBe("queued");
    const fresh = await claimAs("ex-rebootwait", "rebootwait", BOOT_2);
    expect(fresh.ok && fresh.data.runs.map((r) => r.spec_id)).toEqual([id]);
  });

  it("ends nothing for another executor's boot, under another live key, or for a process naming itself", async () => {
    await api("/v1/providers/p-rebootx", { method: "PUT", body: { slots: 4 } });
    const a = await dispatchSpec("reboot x a", { repo: "r-rebootx", provider: "p-rebootx" });
    const b = await dispatchSpec("reboot x b", { repo: "r-rebootx", provider: "p-rebootx" });
    const [held] = await runsOf("ex-rebootx", "rebootx", BOOT_1, 1);
    await pickUp(held);
    // Another executor naming this one's boot as its own predecessor ends none of its runs.
    const other = await claimAs("ex-rebootx-other", "rebootx", BOOT_2, { previous_boot: BOOT_1 }, 0);
    expect(other.ok).toBe(true);
    // A process signing with another live key cannot act as this executor at all.
    const forged = await claimAs(
      "ex-rebootx",
      "rebootx",
      BOOT_2,
      { previous_boot: BOOT_1 },
      0,
      executorClient({ keyId: "k2", secret: "test-secret-two" }),
    );
    expect(forged).toMatchObject({ ok: false, status: 403 });
    expect((await detail(held.spec_id)).status).toBe("leased");
    // A process that names itself as its predecessor ends nothing either.
    expect((await claimAs("ex-rebootx", "rebootx", BOOT_1, { previous_boot: BOOT_1 }, 0)).ok).toBe(true);
    expect((await detail(held.spec_id)).status).toBe("leased");
    expect((await detail(a === held.spec_id ? b : a)).status).toBe("queued");
  });

  it("runs one executor process loses together share the blame: two specs that go down together six times are held only then, one that goes down alone after three", async () => {
    await api("/v1/providers/p-share", { method: "PUT", body: { slots: 4 } });
    const pair = [
      await dispatchSpec("share a", { repo: "r-share", provider: "p-share" }),
      await dispatchSpec("share b", { repo: "r-share", provider: "p-share" }),
    ];
    const boot = (n: number) => `5a4e0000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    /** One crash of a process holding both specs' runs, ended the way `how` says. */
    const crash = async (n: number, how: "expiry" | "restart") => {
      const both = await runsOf("ex-share", "share", boot(n), 2);
      expect(both.map((r) => r.spec_id).sort()).toEqual([...pair].sort());
      for (const r of both) await pickUp(r);
      if (how === "expiry") {
        // Nobody comes back: the leases run out.
        await tick(91_000);
        await runAlarm();
      } else {
        // The next process reports one run from its claim records and names the old boot,
        // which ends the other.
        const reported = await fail(both[0] as ClaimedRun, ORPHANED);
        expect(reported.ok && reported.data.status).toBe(n < 2 * MAX_LOST_LEASES ? "queued" : "dead");
        expect((await claimAs("ex-share", "share", boot(n + 100), { previous_boot: boot(n) }, 0)).ok).toBe(
          true,
        );
      }
    };
    for (let n = 1; n <= 2 * MAX_LOST_LEASES; n++) {
      await crash(n, n % 2 === 0 ? "restart" : "expiry");
      for (const id of pair)
        expect((await detail(id)).status).toBe(n < 2 * MAX_LOST_LEASES ? "queued" : "dead");
    }
    const held = await detail(pair[0] as string);
    expect(held.runs.at(-1)?.failure?.message).toContain(
      `held after ${2 * MAX_LOST_LEASES} lost leases in a row, each weighed by how many runs its executor lost with it`,
    );

    // A spec whose process goes down with it alone counts each loss whole. A claim the process
    // was handed but never picked up does not share the loss.
    const alone = await dispatchSpec("share alone", { repo: "r-share", provider: "p-share" });
    const extra = await dispatchSpec("share unpicked", { repo: "r-share", provider: "p-share" });
    for (let n = 1; n <= MAX_LOST_LEASES; n++) {
      const runs = await runsOf("ex-share-alone", "share", boot(200 + n), 2);
      const mine = runs.find((r) => r.spec_id === alone) as ClaimedRun;
      await pickUp(mine);
      await tick(91_000);
      await runAlarm();
      expect((await detail(alone)).status).toBe(n < MAX_LOST_LEASES ? "queued" : "dead");
    }
    expect((await detail(alone)).runs.at(-1)?.failure?.message).toContain(
      `held after ${MAX_LOST_LEASES} lost leases in a row:`,
    );
    expect((await detail(extra)).status).toBe("queued");
  });
});
