// The whole workflow against a real Temporal server (`temporal server start-dev`, started on a
// free port for this file): the engine, its workers and the shared activities over a real git
// origin and a command harness.
import { Client } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRun } from "../../src/engine/local";
import { createTemporalActivities, type LeaseState } from "../../src/temporal/activities";
import { connectionOptions, parseTemporalSettings } from "../../src/temporal/config";
import { TemporalEngine } from "../../src/temporal/engine";
import { workflowIdFor } from "../../src/temporal/shared";
import { bundleWorkflows, createWorkers, type TemporalWorkers } from "../../src/temporal/worker";
import { type DevServer, startDevServer } from "./dev-server";
import { git, makeBox, makeOrigin, makeRun } from "./helpers";

describe("temporal integration against a real server", () => {
  let server: DevServer;
  let origin: ReturnType<typeof makeOrigin>;
  let box: ReturnType<typeof makeBox>;
  const prefix = `mtor-it-${process.pid}-${Date.now().toString(36)}`;
  const leaseStates = new Map<string, LeaseState>();
  const renewals: string[] = [];
  let connection: NativeConnection;
  let client: Client;
  let workers: TemporalWorkers;
  let serving: Promise<void>;

  beforeAll(async () => {
    server = await startDevServer();
    origin = makeOrigin();
    box = makeBox(origin.root, origin.origin, "box-it");
    try {
      Runtime.install({ logger: new DefaultLogger("ERROR") });
    } catch {
      // Already installed in this process by another suite: its logger is fine too.
    }
    const settings = parseTemporalSettings(
      {
        address: server.address,
        task_queue_prefix: prefix,
        heartbeat_timeout_s: 30,
        box_start_timeout_s: 60,
      },
      {},
    );
    connection = await NativeConnection.connect(connectionOptions(settings));
    client = new Client({ connection, namespace: settings.namespace });
    const activities = createTemporalActivities({
      activities: box.activities,
      executorId: "box-it",
      taskQueuePrefix: prefix,
      heartbeatMs: 200,
      capacity: { demo: 2 },
      renewLease: async (run, phase) => {
        renewals.push(`${run.run_id}:${phase}`);
        return leaseStates.get(run.run_id) ?? "held";
      },
      stopRun: async (workflowId, reason) => {
        const h = client.workflow.getHandle(workflowId);
        await h.signal("stop", reason);
        await h.cancel();
      },
    });
    workers = await createWorkers({
      connection,
      namespace: settings.namespace,
      taskQueuePrefix: prefix,
      executorId: "box-it",
      capacity: { demo: 2 },
      activities,
      workflowBundle: await bundleWorkflows(),
      shutdownGraceMs: 2000,
    });
    serving = workers.run();
  }, 120_000);

  afterAll(async () => {
    workers?.shutdown();
    await serving;
    await connection?.close();
    await server?.close();
    origin?.cleanup();
  }, 60_000);

  const engine = () =>
    new TemporalEngine({ client, taskQueuePrefix: prefix, timing: { heartbeatTimeoutMs: 30_000 } });

  it("runs a passing run end to end: branch pushed, verdict reported, same verdict as the local engine", async () => {
    const run = makeRun("commits", { runId: `it-pass-${Date.now().toString(36)}` });
    const result = await engine().start(run).done;
    expect(result.verdict).toMatchObject({ outcome: "passed", branch: "mtor/k3f9x2ab-1", commits: 1 });
    expect(result.report).toEqual({ accepted: true, status: "awaiting_review" });
    expect(git(origin.origin, "rev-parse", "refs/heads/mtor/k3f9x2ab-1")).toBe(result.verdict.head_sha);
    expect(renewals.some((r) => r.startsWith(`${run.run_id}:harness`))).toBe(true);

    const desc = await client.workflow.getHandle(workflowIdFor(run.run_id)).describe();
    expect(desc.status.name).toBe("COMPLETED");

    const localBox = makeBox(origin.root, origin.origin, "box-it-local");
    const local = await startRun(
      { ...run, run_id: `${run.run_id}-local` },
      {
        activities: localBox.activities,
        client: {
          heartbeat: async () => ({ ok: true, status: 200, data: { cancel: false, expires_at: "" } }),
        },
        load: () => ({ cpu: 0, mem_free: 1 }),
        heartbeatMs: 1000,
      },
    ).done;
    const { duration_ms: _a, ...t } = result.verdict;
    const { duration_ms: _b, ...l } = local.verdict;
    expect(t).toEqual(JSON.parse(JSON.stringify(l)));
  }, 120_000);

  it("a re-claim of the same run attaches to its workflow: no second run", async () => {
    const run = makeRun("no-commit", { runId: `it-reclaim-${Date.now().toString(36)}` });
    const first = await engine().start(run).done;
    const again = await engine().start(run).done;
    expect(again.verdict).toEqual(first.verdict);
    expect(first.verdict.outcome).toBe("rejected");
    const reported = box.controlPlane.verdicts.filter((v) => v.runId === run.run_id);
    expect(reported).toHaveLength(1);
  }, 120_000);

  it("a lost lease cancels the workflow: harness killed, nothing pushed", async () => {
    const run = makeRun("slow", { runId: `it-lost-${Date.now().toString(36)}` });
    const handle = engine().start(run);
    const wf = client.workflow.getHandle(workflowIdFor(run.run_id));
    for (let i = 0; i < 200 && (await wf.query<string>("phase").catch(() => "")) !== "harness"; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    leaseStates.set(run.run_id, "lost");
    const result = await handle.done;
    expect(result.verdict).toMatchObject({ outcome: "failed", failure: { kind: "lost_lease" } });
    expect(result.verdict.branch).toBeUndefined();
    expect((await wf.describe()).status.name).toBe("CANCELLED");
  }, 120_000);

  it("the spec's timeout stops the run as a timeout", async () => {
    const run = makeRun("slow", { runId: `it-timeout-${Date.now().toString(36)}`, timeout: "4s" });
    const result = await engine().start(run).done;
    expect(result.verdict).toMatchObject({ outcome: "failed", failure: { kind: "timeout" } });
  }, 120_000);
});
