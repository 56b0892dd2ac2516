// A spec for a repo or provider no executor serves: dispatch warns, the spec's detail says so
// while it is queued, and the monitor flags it as stuck once executors had time to check in.

import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { UNSERVED_AFTER_MS } from "../src/monitor/flags";
import { api, claimBody, executorClient, specText, startClock, tick } from "./helpers";
import { monitorPass, stub } from "./webhooks-helpers";

const client = executorClient();

beforeAll(async () => {
  await startClock(Date.UTC(2026, 0, 12, 20, 0, 0));
});

async function dispatch(title: string, fields: Record<string, string>) {
  const res = await api("/v1/specs", { body: specText(title, fields, `Do ${title}.`) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; warnings: string[] };
}

/** An executor checks in (an empty claim) advertising these repos and providers. */
async function advertise(id: string, repos: string[], providers: string[]) {
  const r = await client.claim(claimBody(id, { repos, providers }, 0));
  expect(r.ok).toBe(true);
}

const notServed = (warnings: string[]) => warnings.filter((w) => w.startsWith("not_served: "));

describe("specs nothing serves", () => {
  it("dispatch warns naming the repo, the provider, or the missing pair; a served spec gets no warning", async () => {
    const lonely = await dispatch("for a repo nobody has", { repo: "srv-nowhere" });
    expect(notServed(lonely.warnings)).toEqual([
      "not_served: no executor has advertised repo `srv-nowhere` yet; the spec waits in the queue until an executor that serves it claims",
    ]);

    await advertise("srv-a", ["srv-r1"], ["srv-p1"]);
    await advertise("srv-b", ["srv-r2"], ["srv-p2"]);
    expect(notServed((await dispatch("served", { repo: "srv-r1" })).warnings)).toEqual([]);
    expect(
      notServed((await dispatch("served on p1", { repo: "srv-r1", provider: "srv-p1" })).warnings),
    ).toEqual([]);
    expect(
      notServed((await dispatch("unknown provider", { repo: "srv-r1", provider: "srv-p9" })).warnings),
    ).toEqual([expect.stringContaining("no executor has advertised provider `srv-p9` yet")]);
    expect(
      notServed((await dispatch("split pair", { repo: "srv-r1", provider: "srv-p2" })).warnings),
    ).toEqual([expect.stringContaining("no executor serves both repo `srv-r1` and provider `srv-p2`")]);
  });

  it("the spec's detail says so while it is queued, and stops once an executor serves it", async () => {
    const { id } = await dispatch("waiting for a box", { repo: "srv-later" });
    const detail = async () =>
      (await (await api(`/v1/specs/${id}`)).json()) as { warnings: string[]; status: string };
    expect(notServed((await detail()).warnings)).toEqual([
      expect.stringContaining("no executor has advertised repo `srv-later` yet"),
    ]);
    // Stored warnings stay as they were (the lint ones); this one is worked out afresh.
    await advertise("srv-c", ["srv-later"], []);
    expect(notServed((await detail()).warnings)).toEqual([
      expect.stringContaining("no executor serving repo `srv-later` has advertised a provider"),
    ]);
    await advertise("srv-c", ["srv-later"], ["srv-p3"]);
    expect(notServed((await detail()).warnings)).toEqual([]);
  });

  it("the monitor flags a spec nothing can serve once, after executors had time to check in", async () => {
    const { id } = await dispatch("stuck for lack of a box", { repo: "srv-never" });
    const served = await dispatch("served one", { repo: "srv-r1", provider: "srv-p1" });
    expect((await monitorPass()).pass.details.stuck).not.toContain(id);
    await tick(UNSERVED_AFTER_MS + 60_000);
    await advertise("srv-a", ["srv-r1"], ["srv-p1"]);
    const pass = await monitorPass();
    expect(pass.pass.details.stuck).toContain(id);
    expect(pass.pass.details.stuck).not.toContain(served.id);
    const events = await runInDurableObject(stub(), (_i, state) =>
      state.storage.sql.exec("SELECT payload FROM outbox WHERE type = 'spec.stuck'").toArray(),
    );
    const mine = events
      .map((e) => JSON.parse(String(e.payload)))
      .filter((p) => p.data?.spec_id === id || p.spec_id === id);
    expect(mine).toHaveLength(1);
    expect(JSON.stringify(mine[0])).toContain(
      "nothing can run it: no executor has advertised repo `srv-never` yet",
    );
    expect((await monitorPass()).pass.details.stuck).not.toContain(id);
  });
});
