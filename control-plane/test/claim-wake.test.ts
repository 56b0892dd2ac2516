// A long-polling claim wakes when a provider's cooling or breaker cooldown ends, not at the end
// of its wait: no request marks that moment, so the waiting claim has to look by itself.

import type { ClaimResponse, ExecutorInfo, VerdictRequest } from "@mtor/schema/wire";
import { afterAll, describe, expect, it } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, startClock, testFleet } from "./helpers";

// The Fleet's clock runs 100× real time here; signatures are checked against real time then.
const RATE = 100;
const client = executorClient({ now: () => Math.floor(Date.now() / 1000) });

async function claim(executor: string, over: Partial<ExecutorInfo>, waitS = 0): Promise<ClaimResponse> {
  const res = await client.claim(claimBody(executor, over, 1, waitS));
  if (!res.ok) throw new Error(JSON.stringify(res.error));
  return res.data;
}

const failed = (token: string, failure: VerdictRequest["failure"]): VerdictRequest => ({
  token,
  outcome: "failed",
  flags: [],
  duration_ms: 1,
  failure,
});

afterAll(async () => {
  await startClock();
});

describe("a long-polling claim and time-based changes", () => {
  it("is answered when the cooling ends, long before its wait is up", { timeout: 40_000 }, async () => {
    const r = await testFleet().setClock(Date.now(), RATE);
    expect(r.ok).toBe(true);
    const ex = { repos: ["r-wake"], providers: ["p-wake"] };
    await dispatchSpec("wake 1", { repo: "r-wake", provider: "p-wake" });
    const waiting = await dispatchSpec("wake 2", { repo: "r-wake", provider: "p-wake" });
    const run = (await claim("ex-wake", ex)).runs[0];
    // 300 Fleet seconds of cooling: 3 s of real time at this rate.
    await client.verdict(
      run.run_id,
      failed(run.lease.token, { kind: "rate_limited", message: "429", retry_after_s: 300 }),
    );
    expect(await claim("ex-wake", ex)).toEqual({ runs: [], reason: "cooling" });
    const started = Date.now();
    const woken = await claim("ex-wake", ex, 20);
    const tookMs = Date.now() - started;
    expect(woken.runs.map((x) => x.spec_id)).toEqual([waiting]);
    // Without the wake the claim would answer only at its 20 s deadline.
    expect(tookMs).toBeLessThan(12_000);
    const cooling = (
      (await (await api("/v1/providers")).json()) as { providers: { name: string; cooling: boolean }[] }
    ).providers.find((p) => p.name === "p-wake");
    expect(cooling?.cooling).toBe(false);
  });
});
