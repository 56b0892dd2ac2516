// End to end, when things go wrong: a hanging provider, an operator kill, an executor SIGKILLed
// mid-run, and the control plane going away during a run. Real processes throughout: workerd,
// the demo provider, the real claude CLI under the real `mtor executor`.
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import {
  ExecutorProcess,
  makeOrigin,
  type Origin,
  processesUnder,
  type Stack,
  startStack,
  waitFor,
  writeExecutorConfig,
} from "./stack";

let stack: Stack;
let demo: DemoProvider;
/** Registers a cleanup to run when the current test ends (vitest's onTestFinished). */
type Cleanup = (fn: () => Promise<void>) => void;

beforeAll(async () => {
  stack = await startStack("failures");
  demo = await startDemoProvider();
});

afterAll(async () => {
  await demo?.close();
  await stack?.close();
});

function spec(fields: Record<string, string>, body: string): string {
  const fm = Object.entries(fields).map(([k, v]) => `${k}: ${v}`);
  return `---\n${fm.join("\n")}\n---\n${body}\n`;
}

/** One executor serving one repo and one provider, as a real child process. */
function executor(
  cleanup: Cleanup,
  name: string,
  repo: Origin,
  repoName: string,
  provider: string,
  providerUrl: string,
  drainS?: number,
): ExecutorProcess {
  const workdir = join(stack.root, `executor-${name}`);
  const config = writeExecutorConfig(stack.root, {
    id: name,
    controlPlane: stack.cp.url,
    workdir,
    capacity: 1,
    repos: { [repoName]: repo.path },
    providers: { [provider]: { baseUrl: providerUrl, harness: "claude" } },
    drainS,
  });
  const e = new ExecutorProcess(config, workdir);
  cleanup(() => e.kill("SIGKILL"));
  return e;
}

async function hangingProvider(cleanup: Cleanup, latencyMs = 0): Promise<DemoProvider> {
  const d = await startDemoProvider({ latencyMs });
  cleanup(() => d.close());
  return d;
}

// These have their own repo, provider and executor each, and run at once.
describe.concurrent("executor failures end to end", () => {
  it("hang: the spec's timeout kills the harness's whole process group; nothing is left running", {
    timeout: 120_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "hang");
    const hanging = await hangingProvider(onTestFinished);
    const ex = executor(onTestFinished, "hang-x", origin, "hang", "demo-hang", hanging.url);
    const id = await stack.dispatch(
      spec(
        {
          title: "Hang",
          repo: "hang",
          provider: "demo-hang",
          timeout: "20s",
          attempts: "1",
          tests: "[t]",
          stop: "Stop.",
        },
        "Change something.\n<!-- mtor-demo: hang preflight=ok after=1 -->",
      ),
    );
    await ex.waitForLine(new RegExp(`run ${id}-1 preflight ok`), 60_000);
    // The model answers the preflight and the first step, then stops answering mid-run.
    const done = await stack.waitForStatus(id, ["dead", "failed"], 60_000);
    const run = done.runs[0];
    expect(run.failure?.kind).toBe("timeout");
    expect(run.duration_ms).toBeGreaterThanOrEqual(19_000);
    expect(run.duration_ms).toBeLessThan(45_000);
    // Once the run is wholly over (its cleanup follows the verdict), nothing runs in the workdir.
    await ex.waitForLine(new RegExp(`run ${id}-1 timings: `), 30_000);
    expect(processesUnder(ex.workdir)).toEqual([]);
    expect(hanging.requests.some((r) => !r.preflight && r.answer === "hang")).toBe(true);
  });

  it("kill: the operator kills a running spec; the harness is gone within a heartbeat and the spec is canceled", {
    timeout: 120_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "kill");
    const hanging = await hangingProvider(onTestFinished);
    const ex = executor(onTestFinished, "kill-x", origin, "kill", "demo-kill", hanging.url);
    const id = await stack.dispatch(
      spec(
        {
          title: "Kill me",
          repo: "kill",
          provider: "demo-kill",
          timeout: "10m",
          attempts: "1",
          tests: "[t]",
          stop: "Stop.",
        },
        "Change something.\n<!-- mtor-demo: hang preflight=ok after=1 -->",
      ),
    );
    await ex.waitForLine(new RegExp(`run ${id}-1 preflight ok`), 60_000);
    // The harness works in a pooled workspace under the workdir.
    const runsDir = ex.workdir;
    await waitFor(
      () => processesUnder(runsDir).length > 0 && hanging.requests.some((r) => r.answer === "hang"),
      30_000,
      "the harness to be waiting on the provider",
    );

    const killedAt = Date.now();
    const res = await stack.api("POST", `/v1/specs/${id}/kill`);
    expect(res.status).toBe(200);
    // Heartbeats are every second in these tests: the harness must be gone within a few.
    await waitFor(
      () => processesUnder(runsDir).length === 0,
      10_000,
      () => `harness processes to end: ${processesUnder(runsDir).join("; ")}`,
    );
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    await ex.waitForLine(new RegExp(`run ${id}-1 cancelled by the control plane`), 10_000);
    const done = await stack.waitForStatus(id, ["canceled"], 30_000);
    expect(done.status).toBe("canceled");
    await ex.waitForLine(new RegExp(`run ${id}-1 done: failed \\(canceled\\)`), 10_000);
  });

  it("SIGTERM drains: no new claims, a run still going at the deadline gets a canceled verdict, the executor exits 0", {
    timeout: 120_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "drain");
    const hanging = await hangingProvider(onTestFinished);
    const ex = executor(onTestFinished, "drain-x", origin, "drain", "demo-drain", hanging.url, 3);
    const id = await stack.dispatch(
      spec(
        {
          title: "Drain me",
          repo: "drain",
          provider: "demo-drain",
          timeout: "10m",
          tests: "[t]",
          stop: "Stop.",
        },
        "Change something.\n<!-- mtor-demo: hang preflight=ok after=1 -->",
      ),
    );
    await ex.waitForLine(new RegExp(`run ${id}-1 preflight ok`), 60_000);
    await waitFor(
      () => hanging.requests.some((r) => r.answer === "hang"),
      30_000,
      "the harness to be mid-run",
    );
    const second = await stack.dispatch(
      spec(
        {
          title: "Not for a draining executor",
          repo: "drain",
          provider: "demo-drain",
          tests: "[u]",
          stop: "Stop.",
        },
        "Another change.",
      ),
    );
    ex.child.kill("SIGTERM");
    const exit = await ex.exited;
    expect(exit.code).toBe(0);
    expect(ex.output()).toMatch(new RegExp(`run ${id}-1 verdict failed \\(canceled\\) → failed`));
    // The attempt is over but the spec is not: it goes back to the queue for another executor.
    const drained = await stack.spec(id);
    expect(drained.runs[0].failure?.kind).toBe("canceled");
    expect(drained.status).toBe("failed");
    expect(drained.next_attempt_at).toBeTruthy();
    expect((await stack.spec(second)).status).toBe("queued");
    expect(processesUnder(ex.workdir)).toEqual([]);
  });

  it("a wrong executor secret fails fast: the executor says which key was refused and exits 2", {
    timeout: 60_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "badkey");
    const workdir = join(stack.root, "executor-badkey");
    const config = writeExecutorConfig(stack.root, {
      id: "badkey-x",
      controlPlane: stack.cp.url,
      workdir,
      repos: { badkey: origin.path },
      providers: { "demo-badkey": { baseUrl: demo.url, harness: "claude" } },
    });
    const ex = new ExecutorProcess(config, workdir, { MTOR_EXECUTOR_SECRET: "not-the-secret-0123456789" });
    onTestFinished(() => ex.kill("SIGKILL"));
    const exit = await ex.exited;
    expect(exit.code).toBe(2);
    expect(ex.output()).toMatch(/claim refused: 401 .*check key_id "e2e"/);
  });
});

/** Waits until executor `name` has started and the control plane has seen its first claim. */
async function firstClaim(name: string, ex: ExecutorProcess): Promise<void> {
  await ex.waitForLine(new RegExp(`executor ${name} →`));
  await waitFor(
    async () => {
      const list = await stack.api<{ executors: { id: string }[] }>("GET", "/v1/executors");
      return list.body.executors.some((e) => e.id === name);
    },
    30_000,
    `${name}'s first claim`,
  );
}

// These move the control plane's clock or stop it, so they run alone, one after the other.
describe("executor failures end to end, one at a time", () => {
  it("executor stopped during its long poll: a spec dispatched next is run by another executor within seconds, no attempt charged", {
    timeout: 180_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "poll");
    const a = executor(onTestFinished, "poll-a", origin, "poll", "demo-poll", demo.url);
    const b = executor(onTestFinished, "poll-b", origin, "poll", "demo-poll", demo.url);
    // Both have claimed once, so both long polls are open.
    for (const [name, ex] of [
      ["poll-a", a],
      ["poll-b", b],
    ] as const) {
      await firstClaim(name, ex);
    }
    a.child.kill("SIGKILL");
    await a.exited;
    const id = await stack.dispatch(
      spec(
        {
          title: "Picked up after a stopped poll",
          repo: "poll",
          provider: "demo-poll",
          targets: "[src/poll.ts]",
          tests: "[clamps poll values]",
          stop: "Stop.",
        },
        "Add a clamp function.",
      ),
    );
    const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 90_000);
    expect(done.status).toBe("awaiting_review");
    const passed = done.runs.find((r) => r.outcome === "passed");
    expect(passed).toMatchObject({ executor: "poll-b" });
    // If A's open poll got the lease, it came back unclaimed within seconds and cost nothing:
    // B's run is the next attempt number, on a branch of its own, within the same budget.
    expect(done.runs.map((r) => r.attempt)).toEqual(done.runs.map((_, i) => i + 1));
    expect(done.max_attempt - done.front_matter.attempts).toBe(done.runs.length - 1);
    for (const r of done.runs.filter((r) => r !== passed)) {
      expect(r).toMatchObject({ executor: "poll-a", failure: { kind: "lost_lease" } });
    }
    const waited = Date.parse(passed?.claimed_at ?? "") - Date.parse(done.created_at);
    expect(waited).toBeLessThan(15_000);
  });

  it("executor SIGKILLed during its long poll and started again: the run its dead poll was handed ends at the restart, not after the pickup window", {
    timeout: 180_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "reboot");
    const first = executor(onTestFinished, "reboot-x", origin, "reboot", "demo-reboot", demo.url);
    await firstClaim("reboot-x", first);
    first.child.kill("SIGKILL");
    await first.exited;
    const id = await stack.dispatch(
      spec(
        {
          title: "Run after a restart",
          repo: "reboot",
          provider: "demo-reboot",
          targets: "[src/reboot.ts]",
          tests: "[clamps reboot values]",
          stop: "Stop.",
        },
        "Add a clamp function.",
      ),
    );
    // The dead process's long poll is still open in the control plane, so it is handed the run,
    // and nobody will ever pick it up.
    await waitFor(
      async () => (await stack.spec(id)).status === "leased",
      15_000,
      "the dead process's poll to be handed the run",
    );
    // The same executor starts again in the same workdir, as systemd's Restart=always would.
    const second = new ExecutorProcess(first.config, first.workdir);
    onTestFinished(() => second.kill("SIGKILL"));
    const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 90_000);
    expect(done.status).toBe("awaiting_review");
    const [lost, passed] = done.runs;
    expect(done.runs).toHaveLength(2);
    // The lost run ended because the new process said its predecessor was gone, not because its
    // pickup window ran out.
    expect(lost).toMatchObject({ executor: "reboot-x", failure: { kind: "lost_lease" } });
    expect(lost.failure?.message).toMatch(/executor reboot-x restarted: .* is gone and never picked it up/);
    expect(passed).toMatchObject({ executor: "reboot-x", outcome: "passed", attempt: 2 });
    // No attempt charged for it.
    expect(done.max_attempt - done.front_matter.attempts).toBe(1);
  });

  it("executor crash: A is SIGKILLed mid-run, the lease expires, B completes the spec, A's late verdict is refused", {
    timeout: 180_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "crash");
    // Slow enough that it is still mid-run when it is told to hang.
    const hanging = await hangingProvider(onTestFinished, 2000);
    const a = executor(onTestFinished, "crash-a", origin, "crash", "demo-crash", hanging.url);
    const id = await stack.dispatch(
      spec(
        {
          title: "Survive a crash",
          repo: "crash",
          provider: "demo-crash",
          timeout: "10m",
          targets: "[src/crash.ts]",
          tests: "[clamps crash values]",
          stop: "Stop.",
        },
        "Add a clamp function.",
      ),
    );
    await a.waitForLine(new RegExp(`run ${id}-1 preflight ok`), 60_000);
    hanging.setScript("hang");
    await waitFor(
      () => hanging.requests.some((r) => r.answer === "hang"),
      30_000,
      "A's harness to be mid-run",
    );
    a.child.kill("SIGKILL");
    await a.exited;
    const killedAt = Date.now();

    // B serves the same provider name, against a provider that answers.
    const b = executor(onTestFinished, "crash-b", origin, "crash", "demo-crash", demo.url);
    await b.waitForLine(/executor crash-b →/);
    try {
      // Past A's lease (90 s): the monitor takes the run back as lost_lease and queues the spec
      // again at once, charging no attempt, and B takes it.
      await stack.pinClock(killedAt + 100_000);
      await stack.cp.tick();
      const requeued = await stack.spec(id);
      expect(requeued.runs[0].failure?.kind).toBe("lost_lease");
      await stack.pinClock(null);
      const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 90_000);
      expect(done.status).toBe("awaiting_review");
      // B's run is attempt 2, so it pushes a branch A's run could not have pushed already; the
      // lost run is not charged (max_attempt grew by one).
      expect(done.runs.map((r) => [r.attempt, r.executor, r.outcome])).toEqual([
        [1, "crash-a", "failed"],
        [2, "crash-b", "passed"],
      ]);
      expect(done.max_attempt).toBe(done.front_matter.attempts + 1);
      expect(origin.branches()[`mtor/${id}-2`]).toBe(done.runs[1].head_sha);

      // A comes back on the same workdir: it reaps its orphaned harness, reports the run it
      // never finished with the old lease token, and the control plane refuses that verdict.
      const again = executor(onTestFinished, "crash-a", origin, "crash", "demo-crash", hanging.url);
      await again.waitForLine(
        new RegExp(`run ${id}-1 left unfinished by an earlier executor process`),
        30_000,
      );
      await again.waitForLine(new RegExp(`run ${id}-1 verdict refused: 409 lease_lost`), 30_000);
      expect(processesUnder(again.workdir)).toEqual([]);
      const after = await stack.spec(id);
      expect(after.status).toBe("awaiting_review");
      expect(after.runs).toHaveLength(2);
      expect(after.runs[0].failure?.kind).toBe("lost_lease");
    } finally {
      await stack.pinClock(null);
    }
  });

  it("control plane down: it stops during a run and restarts with its state; the verdict arrives once", {
    timeout: 180_000,
  }, async ({ expect, onTestFinished }) => {
    const origin = makeOrigin(stack.root, "outage");
    const slow = await startDemoProvider({ latencyMs: 1500 });
    onTestFinished(() => slow.close());
    const ex = executor(onTestFinished, "outage-x", origin, "outage", "demo-outage", slow.url);
    const id = await stack.dispatch(
      spec(
        {
          title: "Outlive an outage",
          repo: "outage",
          provider: "demo-outage",
          timeout: "10m",
          targets: "[src/outage.ts]",
          tests: "[clamps outage values]",
          stop: "Stop.",
        },
        "Add a clamp function.",
      ),
    );
    await ex.waitForLine(new RegExp(`run ${id}-1 preflight ok`), 60_000);
    await stack.cp.stop();
    try {
      // The run goes on without the control plane; its verdict waits on disk.
      await ex.waitForLine(new RegExp(`run ${id}-1 verdict passed spooled`), 90_000);
    } finally {
      await stack.cp.restart();
    }
    await ex.waitForLine(new RegExp(`run ${id}-1 verdict delivered from spool`), 60_000);
    const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 30_000);
    expect(done.status).toBe("awaiting_review");
    expect(done.runs).toHaveLength(1);
    expect(done.runs[0].outcome).toBe("passed");
    expect(origin.branches()[`mtor/${id}-1`]).toBe(done.runs[0].head_sha);
    // Delivered exactly once: one spooled send, one delivery, no second verdict for the run.
    expect(ex.lines.filter((l) => l.includes(`run ${id}-1 verdict delivered`))).toHaveLength(1);
    expect(ex.lines.filter((l) => new RegExp(`run ${id}-1 verdict .*→`).test(l))).toHaveLength(1);
  });
});
