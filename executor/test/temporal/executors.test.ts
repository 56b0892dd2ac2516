// Real executors on the Temporal engine against a real Temporal server: the control plane in
// workerd, the demo provider driving the real `claude` CLI, bare git origins, and `mtor executor`
// processes with engine = "temporal". A box SIGKILLed mid-harness, the Temporal server restarted
// mid-run and an operator kill, then the histories of these runs replayed against the workflow
// code. The tests run one after the other: they share the server, and two move the clock.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecutorView, ProviderView } from "@mtor/schema";
import { Client, Connection, WorkflowNotFoundError } from "@temporalio/client";
import proto from "@temporalio/proto";
import { DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { REPO_ROOT } from "../../src/local/control-plane";
import { workflowsPath } from "../../src/temporal/worker";
import {
  ExecutorProcess,
  gitIn,
  makeOrigin,
  OPERATOR_TOKEN,
  type Origin,
  processesUnder,
  type Stack,
  startStack,
  waitFor,
  writeExecutorConfig,
} from "../e2e/stack";
import { type DevServer, startDevServer } from "./dev-server";

let stack: Stack;
let server: DevServer;
let connection: Connection;
let client: Client;
/** Every workflow these tests ran, for the replay test. */
const workflowIds: string[] = [];

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger("ERROR") });
  } catch {
    // Installed already in this process.
  }
  [stack, server] = await Promise.all([startStack("temporal"), startDevServer()]);
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await server?.close();
  await stack?.close();
}, 60_000);

/** A box on the Temporal engine serving one repo and one provider, as a real child process. */
function temporalExecutor(
  cleanup: (fn: () => Promise<void>) => void,
  name: string,
  repo: [string, Origin],
  provider: [string, DemoProvider],
): ExecutorProcess {
  const workdir = join(stack.root, `executor-${name}`);
  const config = writeExecutorConfig(stack.root, {
    id: name,
    controlPlane: stack.cp.url,
    workdir,
    capacity: 1,
    repos: { [repo[0]]: repo[1].path },
    providers: { [provider[0]]: { baseUrl: provider[1].url, harness: "claude" } },
    temporal: {
      address: server.address,
      task_queue_prefix: "it",
      // A dead box is noticed within seconds, not the production minutes.
      heartbeat_timeout_s: 5,
      box_start_timeout_s: 5,
      step_timeout_s: 120,
    },
  });
  const e = new ExecutorProcess(config, workdir);
  cleanup(() => e.kill("SIGKILL"));
  return e;
}

function spec(repo: string, provider: string, title: string): string {
  return [
    "---",
    `title: ${title}`,
    `repo: ${repo}`,
    `provider: ${provider}`,
    "timeout: 10m",
    `targets: [src/${repo}.ts]`,
    `tests: [clamps ${repo} values]`,
    "stop: Stop after this one test.",
    "---",
    `Add a \`clamp(value, low, high)\` function to src/${repo}.ts, with the one test named.`,
    "",
  ].join("\n");
}

/** A bare origin that keeps a reflog, so every push to it is counted. */
function countingOrigin(name: string): Origin {
  const origin = makeOrigin(stack.root, name);
  gitIn(origin.path, "config", "core.logAllRefUpdates", "always");
  return origin;
}

function pushesOf(origin: Origin, branch: string): number {
  try {
    return gitIn(origin.path, "reflog", "show", "--format=%H", `refs/heads/${branch}`)
      .split("\n")
      .filter(Boolean).length;
  } catch {
    return 0;
  }
}

const workflowOf = (runId: string) => client.workflow.getHandle(`mtor-${runId}`);

/** How the run's workflow ended, once it has (its cleanup comes after the verdict). */
async function closedStatus(runId: string): Promise<string> {
  await workflowOf(runId)
    .result()
    .catch(() => undefined);
  return (await workflowOf(runId).describe()).status.name;
}

/** The started activity of `type` of the run's workflow, with the worker identity running it. */
async function startedActivity(runId: string, type: string): Promise<string | undefined> {
  const desc = await workflowOf(runId)
    .describe()
    .catch((err: Error) => {
      // Claimed, but its workflow is not started yet.
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
  const a = desc?.raw.pendingActivities?.find(
    (p) =>
      p.activityType?.name === type &&
      p.state === proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
  );
  return a ? (a.lastWorkerIdentity ?? "") : undefined;
}

async function runIdOf(specId: string, attempt: number): Promise<string> {
  let runId: string | undefined;
  await waitFor(
    async () => {
      runId = (await stack.spec(specId)).runs.find((r) => r.attempt === attempt)?.id;
      return runId !== undefined;
    },
    60_000,
    `spec ${specId} attempt ${attempt} to be claimed`,
  );
  workflowIds.push(`mtor-${runId}`);
  return runId as string;
}

const terminal = ["awaiting_review", "rejected", "failed", "dead", "canceled"];

describe("executors on the Temporal engine", () => {
  it("happy path: the real claude CLI and the scripted provider; verdict reported, branch pushed once", {
    timeout: 120_000,
  }, async ({ onTestFinished }) => {
    const origin = countingOrigin("t-happy");
    const demo = await startDemoProvider();
    onTestFinished(() => demo.close());
    const ex = temporalExecutor(onTestFinished, "t-happy-x", ["t-happy", origin], ["demo-t-happy", demo]);
    await ex.waitForLine(/executor t-happy-x →/);
    const id = await stack.dispatch(spec("t-happy", "demo-t-happy", "Add clamp on Temporal"));
    const runId = await runIdOf(id, 1);
    const done = await stack.waitForStatus(id, terminal, 90_000);
    expect(done.status).toBe("awaiting_review");
    expect(done.runs).toHaveLength(1);
    expect(done.runs[0]).toMatchObject({ executor: "t-happy-x", outcome: "passed", branch: `mtor/${id}-1` });
    expect(origin.branches()[`mtor/${id}-1`]).toBe(done.runs[0].head_sha);
    expect(pushesOf(origin, `mtor/${id}-1`)).toBe(1);
    // It really went through Temporal, and through the real CLI talking to the demo provider.
    await ex.waitForLine(new RegExp(`run ${id}-1 → workflow mtor-${runId} on it-demo-t-happy`));
    expect(await closedStatus(runId)).toBe("COMPLETED");
    expect(demo.requests.some((r) => r.script === "default" && !r.preflight)).toBe(true);
  });

  it("two boxes on one queue: the one running the harness is SIGKILLed; one verdict per run, the branch pushed once, from the other", {
    timeout: 240_000,
  }, async ({ onTestFinished }) => {
    const origin = countingOrigin("t-crash");
    const demo = await startDemoProvider();
    onTestFinished(() => demo.close());
    const provider: [string, DemoProvider] = ["demo-t-crash", demo];
    const a = temporalExecutor(onTestFinished, "t-crash-a", ["t-crash", origin], provider);
    await a.waitForLine(/executor t-crash-a →/);
    const id = await stack.dispatch(spec("t-crash", "demo-t-crash", "Survive a box on Temporal"));
    const runId = await runIdOf(id, 1);
    await a.waitForLine(new RegExp(`run ${id}-1 preflight ok`), 60_000);
    // The harness is now talking to the provider: make it hang there, so A dies mid-harness.
    demo.setScript("hang");
    await waitFor(() => demo.requests.some((r) => r.answer === "hang"), 30_000, "A's harness to be mid-run");
    const b = temporalExecutor(onTestFinished, "t-crash-b", ["t-crash", origin], provider);
    await b.waitForLine(/executor t-crash-b →/);
    const runner = await startedActivity(runId, "runHarness");
    expect(runner, "the harness activity is running").toMatch(new RegExp(`^${a.child.pid}@`));
    await a.kill("SIGKILL");
    const killedAt = Date.now();
    demo.setScript("default");

    // A's box stops heartbeating: the harness step times out, B (the only box left on the
    // provider's queue) reports the attempt failed with A's still-valid lease, and the workflow
    // ends. The control plane accepts that one verdict and schedules a retry.
    const failed = await stack.waitForStatus(id, ["failed", "queued", "dead"], 60_000);
    expect(failed.runs).toHaveLength(1);
    expect(failed.runs[0]).toMatchObject({ executor: "t-crash-a", outcome: "failed" });
    expect(failed.runs[0].failure?.message).toMatch(/stopped heartbeating/);
    expect(await closedStatus(runId)).toBe("COMPLETED");
    expect(b.output()).not.toContain(`run ${id}-1 →`);

    // The lease view: nothing is held by A any more, the provider's slot is free.
    const executors = await stack.api<{ executors: ExecutorView[] }>("GET", "/v1/executors");
    for (const e of executors.body.executors) expect(e.runs.filter((r) => r.spec_id === id)).toEqual([]);
    const providers = await stack.api<{ providers: ProviderView[] }>("GET", "/v1/providers");
    expect(providers.body.providers.find((p) => p.name === "demo-t-crash")?.in_use).toBe(0);

    try {
      // Past the retry's backoff, B takes the second attempt and passes it.
      await stack.pinClock(Date.parse(failed.next_attempt_at as string) + 1000);
      await stack.cp.tick();
      const runId2 = await runIdOf(id, 2);
      const done = await stack.waitForStatus(id, terminal, 120_000);
      expect(done.status).toBe("awaiting_review");
      expect(done.runs.map((r) => [r.attempt, r.executor, r.outcome])).toEqual([
        [1, "t-crash-a", "failed"],
        [2, "t-crash-b", "passed"],
      ]);
      expect(Object.keys(origin.branches()).filter((br) => br.startsWith("mtor/"))).toEqual([`mtor/${id}-2`]);
      expect(origin.branches()[`mtor/${id}-2`]).toBe(done.runs[1].head_sha);
      expect(pushesOf(origin, `mtor/${id}-2`)).toBe(1);
      expect(await closedStatus(runId2)).toBe("COMPLETED");
      const after = await stack.api<{ providers: ProviderView[] }>("GET", "/v1/providers");
      expect(after.body.providers.find((p) => p.name === "demo-t-crash")?.in_use).toBe(0);
    } finally {
      await stack.pinClock(null);
    }
    expect(Date.now() - killedAt).toBeLessThan(120_000);
  });

  it("the Temporal server is restarted mid-run with its database kept: the run completes", {
    timeout: 180_000,
  }, async ({ onTestFinished }) => {
    const origin = countingOrigin("t-restart");
    const slow = await startDemoProvider({ latencyMs: 1500 });
    onTestFinished(() => slow.close());
    const ex = temporalExecutor(
      onTestFinished,
      "t-restart-x",
      ["t-restart", origin],
      ["demo-t-restart", slow],
    );
    await ex.waitForLine(/executor t-restart-x →/);
    const id = await stack.dispatch(spec("t-restart", "demo-t-restart", "Outlive a Temporal restart"));
    const runId = await runIdOf(id, 1);
    await waitFor(
      async () => (await startedActivity(runId, "runHarness")) !== undefined,
      60_000,
      "the harness step to start",
    );
    const turnsBefore = slow.requests.length;
    await server.stop();
    await server.start();
    const done = await stack.waitForStatus(id, terminal, 120_000);
    expect(done.status).toBe("awaiting_review");
    expect(done.runs).toHaveLength(1);
    expect(done.runs[0].outcome).toBe("passed");
    expect(origin.branches()[`mtor/${id}-1`]).toBe(done.runs[0].head_sha);
    expect(pushesOf(origin, `mtor/${id}-1`)).toBe(1);
    // The harness went on talking to the provider across the outage.
    expect(slow.requests.length).toBeGreaterThan(turnsBefore);
    expect(await closedStatus(runId)).toBe("COMPLETED");
  });

  it("mtor kill cancels the workflow and stops the harness", {
    timeout: 120_000,
  }, async ({ onTestFinished }) => {
    const origin = countingOrigin("t-kill");
    const hanging = await startDemoProvider();
    onTestFinished(() => hanging.close());
    const ex = temporalExecutor(onTestFinished, "t-kill-x", ["t-kill", origin], ["demo-t-kill", hanging]);
    await ex.waitForLine(/executor t-kill-x →/);
    const id = await stack.dispatch(
      spec("t-kill", "demo-t-kill", "Be killed on Temporal").replace(
        "Add a",
        "<!-- mtor-demo: hang preflight=ok -->\nAdd a",
      ),
    );
    const runId = await runIdOf(id, 1);
    await waitFor(
      () => hanging.requests.some((r) => r.answer === "hang"),
      60_000,
      "the harness to be mid-run",
    );
    // The harness works in a pooled workspace, its preflight under runs/: both in the workdir.
    const runs = ex.workdir;
    expect(processesUnder(runs).some((p) => /claude/.test(p))).toBe(true);

    const out = execFileSync(
      process.execPath,
      [join(REPO_ROOT, "executor", "bin", "mtor.js"), "kill", id, "--url", stack.cp.url],
      { env: { ...process.env, MTOR_TOKEN: OPERATOR_TOKEN }, encoding: "utf8" },
    );
    expect(out).toContain("killed");
    const done = await stack.waitForStatus(id, terminal, 60_000);
    expect(done.status).toBe("canceled");
    expect(await closedStatus(runId)).toBe("CANCELLED");
    await waitFor(
      () => processesUnder(runs).length === 0,
      15_000,
      () => processesUnder(runs).join("\n"),
    );
    expect(origin.branches()[`mtor/${id}-1`]).toBeUndefined();
  });

  it("the histories of these runs replay against the workflow code, and a changed workflow fails replay", {
    timeout: 120_000,
  }, async () => {
    expect(workflowIds.length).toBeGreaterThanOrEqual(4);
    const histories = await Promise.all(
      workflowIds.map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const replayed: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: workflowsPath() }, histories)) {
      expect(r.error, `replay of ${r.workflowId}`).toBeUndefined();
      replayed.push(r.workflowId);
    }
    expect(replayed.sort()).toEqual([...workflowIds].sort());

    // The same histories against a workflow whose commands differ: every replay must fail.
    const changed = fileURLToPath(new URL("./fixtures/changed-workflow.ts", import.meta.url));
    const failures: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: changed }, histories)) {
      expect(r.error, `replay of ${r.workflowId} against the changed workflow`).toBeDefined();
      failures.push(r.error?.name ?? "");
    }
    expect(failures).toHaveLength(histories.length);
    expect(new Set(failures)).toEqual(new Set(["DeterminismViolationError"]));
  });
});
