// The whole workflow against a real Temporal server (`temporal server start-dev`, started on a
// free port for this file): the engine, its workers and the shared activities over a real git
// origin and a command harness. What the workflow asked of the server (steps, queues, timeouts,
// retries, timers) is read back from the history the server recorded, and every history is
// replayed against the workflow code at the end.
import { Client } from "@temporalio/client";
import type { temporal } from "@temporalio/proto";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRun } from "../../src/engine/local";
import { createTemporalActivities, type LeaseState } from "../../src/temporal/activities";
import { connectionOptions, parseTemporalSettings } from "../../src/temporal/config";
import { TemporalEngine } from "../../src/temporal/engine";
import { DEFAULT_TIMING, workflowIdFor } from "../../src/temporal/shared";
import {
  bundleWorkflows,
  createWorkers,
  type TemporalWorkers,
  workflowsPath,
} from "../../src/temporal/worker";
import { type DevServer, startDevServer } from "./dev-server";
import { git, makeBox, makeOrigin, makeRun } from "./helpers";

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Duration = { seconds?: unknown; nanos?: number | null } | null | undefined;
const ms = (d: Duration) =>
  d ? Number(String(d.seconds ?? 0)) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : undefined;

/** The activities the workflow scheduled, in order, as the server recorded them. */
function scheduled(events: HistoryEvent[]) {
  return events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a) return [];
    return [
      {
        type: a.activityType?.name,
        taskQueue: a.taskQueue?.name,
        startToCloseMs: ms(a.startToCloseTimeout),
        heartbeatMs: ms(a.heartbeatTimeout),
        scheduleToStartMs: ms(a.scheduleToStartTimeout),
        maximumAttempts: a.retryPolicy?.maximumAttempts,
        backoffCoefficient: a.retryPolicy?.backoffCoefficient,
      },
    ];
  });
}

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

  const ran: string[] = [];
  const historyOf = async (runId: string) =>
    (await client.workflow.getHandle(workflowIdFor(runId)).fetchHistory()).events ?? [];

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
    ran.push(run.run_id);

    // The steps in order, on the provider's queue (prepare, report) or the box holding the
    // worktree (the rest), with the spec's timeout as the harness's start-to-close.
    const events = await historyOf(run.run_id);
    const steps = scheduled(events);
    const boxQueue = `${prefix}-demo@box-it`;
    expect(steps.map((a) => [a.type, a.taskQueue])).toEqual([
      ["prepareWorktree", `${prefix}-demo`],
      ["preflight", boxQueue],
      ["runHarness", boxQueue],
      ["checkOrigin", boxQueue],
      ["runGates", boxQueue],
      ["pushBranch", boxQueue],
      ["reportVerdict", `${prefix}-demo`],
      ["cleanup", boxQueue],
    ]);
    expect(steps.find((a) => a.type === "runHarness")).toMatchObject({
      startToCloseMs: run.spec.timeout_s * 1000,
      heartbeatMs: 30_000,
      scheduleToStartMs: DEFAULT_TIMING.boxStartTimeoutMs,
      maximumAttempts: 1,
    });
    expect(steps.find((a) => a.type === "pushBranch")).toMatchObject({
      maximumAttempts: DEFAULT_TIMING.maxAttempts,
      backoffCoefficient: 2,
    });
    // The attempt's timer: the spec's timeout over the whole run.
    const timers = events.flatMap((e) =>
      e.timerStartedEventAttributes ? [ms(e.timerStartedEventAttributes.startToFireTimeout)] : [],
    );
    expect(timers).toEqual([run.spec.timeout_s * 1000]);

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
    expect(reported[0].body.flags.map((f) => f.gate)).toContain("no_commit_on_success");
    // One workflow, and a gate rejection pushes nothing.
    const steps = scheduled(await historyOf(run.run_id)).map((a) => a.type);
    expect(steps).toEqual([
      "prepareWorktree",
      "preflight",
      "runHarness",
      "checkOrigin",
      "runGates",
      "reportVerdict",
      "cleanup",
    ]);
    ran.push(run.run_id);
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
    // Stopped the way a stopper does it: the reason as a signal, then a cancel request; the
    // harness was cancelled, the verdict still reported, nothing pushed.
    const events = await historyOf(run.run_id);
    const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signal?.workflowExecutionSignaledEventAttributes?.signalName).toBe("stop");
    expect(events.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    // The harness step ended there, stopped (failed as lost_lease, or cancelled), not completed.
    const harnessId = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === "runHarness",
    )?.eventId;
    const harnessEnd = events.find(
      (e) =>
        String(e.activityTaskFailedEventAttributes?.scheduledEventId ?? "") === String(harnessId) ||
        String(e.activityTaskCanceledEventAttributes?.scheduledEventId ?? "") === String(harnessId),
    );
    expect(
      harnessEnd?.activityTaskCanceledEventAttributes ??
        harnessEnd?.activityTaskFailedEventAttributes?.failure?.cause?.applicationFailureInfo?.type ??
        harnessEnd?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type,
    ).toBeTruthy();
    const steps = scheduled(events).map((a) => a.type);
    expect(steps).toContain("reportVerdict");
    expect(steps).not.toContain("pushBranch");
    ran.push(run.run_id);
  }, 120_000);

  it("the spec's timeout stops the run as a timeout", async () => {
    const run = makeRun("slow", { runId: `it-timeout-${Date.now().toString(36)}`, timeout: "4s" });
    const result = await engine().start(run).done;
    expect(result.verdict).toMatchObject({ outcome: "failed", failure: { kind: "timeout" } });
    const events = await historyOf(run.run_id);
    expect(events.some((e) => e.timerFiredEventAttributes)).toBe(true);
    expect(scheduled(events).map((a) => a.type)).not.toContain("pushBranch");
    ran.push(run.run_id);
  }, 120_000);

  it("every history recorded above replays against the workflow code", async () => {
    expect(ran).toHaveLength(4);
    const histories = await Promise.all(
      ran.map(async (runId) => ({
        workflowId: workflowIdFor(runId),
        history: { events: await historyOf(runId) },
      })),
    );
    const replayed: string[] = [];
    for await (const r of Worker.runReplayHistories({ workflowsPath: workflowsPath() }, histories)) {
      expect(r.error, `replay of ${r.workflowId}`).toBeUndefined();
      replayed.push(r.workflowId);
    }
    expect(replayed).toHaveLength(4);
  }, 120_000);
});
