// The verdict spool: verdicts kept on disk until acknowledged, resent after a restart, never sent twice.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiResult, TransportError, type VerdictRequest, type VerdictResponse } from "@mtor/schema";
import { describe, expect, it } from "vitest";
import { VerdictSpool } from "../../src/daemon/spool";

const verdict: VerdictRequest = { token: "t1", outcome: "passed", flags: [], duration_ms: 1200 };

/** A control plane that answers from a list, then keeps answering the last one. */
function fakeControlPlane(answers: (ApiResult<VerdictResponse> | "down")[]) {
  const calls: { runId: string; body: VerdictRequest }[] = [];
  return {
    calls,
    async verdict(runId: string, body: VerdictRequest): Promise<ApiResult<VerdictResponse>> {
      calls.push({ runId, body });
      const a = answers.length > 1 ? answers.shift() : answers[0];
      if (a === "down" || a === undefined) throw new TransportError("control plane unreachable");
      return a;
    },
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), "mtor-spool-"));

describe("verdict spool", () => {
  it("keeps a verdict on disk until the control plane acknowledges it", async () => {
    const dir = tmp();
    const cp = fakeControlPlane([
      "down",
      "down",
      { ok: true, status: 200, data: { status: "awaiting_review" } },
    ]);
    const spool = new VerdictSpool({ dir, client: cp });
    const entry = spool.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict });
    expect(await spool.send(entry)).toEqual({ state: "retry", error: "control plane unreachable" });
    expect(spool.pending().map((e) => e.run_id)).toEqual(["r1"]);
    expect(await spool.flush()).toBe(1);
    expect(await spool.flush()).toBe(0);
    expect(spool.pending()).toEqual([]);
    expect(cp.calls).toHaveLength(3);
    expect(cp.calls.every((c) => c.runId === "r1" && c.body.token === "t1")).toBe(true);
  });

  it("survives a restart: a new spool over the same directory resends what is left", async () => {
    const dir = tmp();
    const first = new VerdictSpool({ dir, client: fakeControlPlane(["down"]) });
    first.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict });
    first.write({ run_id: "r2", spec_id: "s2", attempt: 2, verdict: { ...verdict, token: "t2" } });
    expect(await first.flush()).toBe(2);

    const cp = fakeControlPlane([{ ok: true, status: 200, data: { status: "awaiting_review" } }]);
    const second = new VerdictSpool({ dir, client: cp });
    expect(
      second
        .pending()
        .map((e) => e.run_id)
        .sort(),
    ).toEqual(["r1", "r2"]);
    expect(await second.flush()).toBe(0);
    expect(cp.calls.map((c) => c.body.token).sort()).toEqual(["t1", "t2"]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("drops a verdict the control plane refuses for good (409 lease_lost), keeps one it failed on (5xx)", async () => {
    const dir = tmp();
    const cp = fakeControlPlane([
      { ok: false, status: 503, error: { code: "unavailable", message: "" } },
      { ok: false, status: 409, error: { code: "lease_lost", message: "stale token" } },
    ]);
    const spool = new VerdictSpool({ dir, client: cp });
    const entry = spool.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict });
    expect((await spool.send(entry)).state).toBe("retry");
    expect(spool.has("r1")).toBe(true);
    expect(await spool.send(entry)).toEqual({ state: "refused", code: "lease_lost", httpStatus: 409 });
    expect(spool.has("r1")).toBe(false);
  });

  it("resends in the background with backoff until acknowledged", async () => {
    const dir = tmp();
    const cp = fakeControlPlane([
      "down",
      "down",
      "down",
      { ok: true, status: 200, data: { status: "awaiting_review" } },
    ]);
    const spool = new VerdictSpool({ dir, client: cp, baseDelayMs: 10, maxDelayMs: 40 });
    const settled = new Promise((resolve) => {
      spool.onSettled = (e, r) => resolve([e.run_id, r.state]);
    });
    spool.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict });
    spool.start();
    expect(await settled).toEqual(["r1", "acknowledged"]);
    spool.stop();
    expect(cp.calls).toHaveLength(4);
    expect(spool.pending()).toEqual([]);
  });

  it("replaces an earlier verdict of the same run instead of sending two", async () => {
    const dir = tmp();
    const cp = fakeControlPlane([{ ok: true, status: 200, data: { status: "canceled" } }]);
    const spool = new VerdictSpool({ dir, client: cp });
    spool.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict });
    spool.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict: { ...verdict, outcome: "failed" } });
    expect(await spool.flush()).toBe(0);
    expect(cp.calls.map((c) => c.body.outcome)).toEqual(["failed"]);
  });
});

describe("verdict spool, concurrent senders", () => {
  it("joins a send already in flight for the same run instead of sending twice", async () => {
    const dir = tmp();
    let release: () => void = () => {};
    const calls: string[] = [];
    const client = {
      async verdict(runId: string): Promise<ApiResult<VerdictResponse>> {
        calls.push(runId);
        await new Promise<void>((r) => {
          release = r;
        });
        return { ok: true, status: 200, data: { status: "awaiting_review" } };
      },
    };
    const spool = new VerdictSpool({ dir, client });
    const entry = spool.write({ run_id: "r1", spec_id: "s1", attempt: 1, verdict });
    const first = spool.send(entry);
    const second = spool.send(entry);
    const flushed = spool.flush();
    await waitUntil(() => calls.length === 1);
    release();
    expect(await first).toEqual({ state: "acknowledged", status: "awaiting_review" });
    expect(await second).toEqual({ state: "acknowledged", status: "awaiting_review" });
    expect(await flushed).toBe(0);
    expect(calls).toEqual(["r1"]);
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in 5 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}
