// Concurrent claims never over-commit a provider's slots nor lease one spec twice.
import { expect, it } from "vitest";
import { api, claimBody, dispatchSpec, executorClient, startClock } from "./helpers";

it("10 executors, 30 simultaneous claims, 5 queued specs, 2 slots: exactly 2 leased, none twice", async () => {
  await startClock();
  const client = executorClient();
  expect((await api("/v1/providers/p-conc", { method: "PUT", body: { slots: 2 } })).status).toBe(200);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push(await dispatchSpec(`concurrent ${i}`, { repo: "r-conc", provider: "p-conc" }));

  const ex = { repos: ["r-conc"], providers: ["p-conc"] };
  const claims = Array.from({ length: 30 }, (_, i) => client.claim(claimBody(`ex-conc-${i % 10}`, ex, 2)));
  const results = await Promise.all(claims);
  expect(results.every((r) => r.ok)).toBe(true);
  const runs = results.flatMap((r) => (r.ok ? r.data.runs : []));
  expect(runs).toHaveLength(2);
  expect(new Set(runs.map((r) => r.spec_id)).size).toBe(2);
  expect(runs.map((r) => r.spec_id).sort()).toEqual([ids[0], ids[1]].sort());
  const reasons = new Set(
    results.filter((r) => r.ok && r.data.runs.length === 0).map((r) => r.ok && r.data.reason),
  );
  expect(reasons).toEqual(new Set(["no_slots"]));

  const providers = (await (await api("/v1/providers")).json()) as {
    providers: { name: string; in_use: number }[];
  };
  expect(providers.providers.find((p) => p.name === "p-conc")?.in_use).toBe(2);

  // A verdict frees a slot: the next claim gets the next spec in order.
  const done = runs[0];
  const v = await client.verdict(done.run_id, {
    token: done.lease.token,
    outcome: "passed",
    flags: [],
    duration_ms: 1,
  });
  expect(v.ok).toBe(true);
  const next = await client.claim(claimBody("ex-conc-0", ex, 2));
  expect(next.ok && next.data.runs.map((r) => r.spec_id)).toEqual([ids[2]]);
});
