// Runs the real specRun workflow code, in Temporal's real sandbox, without a server: the
// history a server would record is built step by step, and a replay Worker (Temporal's own
// core) runs the workflow over it. A sink reports each activity and timer the workflow asks
// for; the test executes the activities for real (or scripts their failure) and appends what a
// server would record, until the workflow ends.
import { fileURLToPath } from "node:url";
import { defaultFailureConverter, defaultPayloadConverter } from "@temporalio/common";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import type { SpecRunInput } from "../../src/temporal/shared";
import { workflowsPath } from "../../src/temporal/worker";
import { HistoryBuilder } from "./history";

export type Op = OpUnion;
export type Recorded =
  | { kind: "activity"; seq: number; type: string; args: unknown[]; options: Record<string, unknown> }
  | { kind: "timer"; seq: number; ms: number }
  | { kind: "done"; end: { result?: unknown; error?: { name: string; message: string } } };

type OpUnion =
  | { op: "wft" }
  | { op: "timerStarted"; seq: number; ms: number }
  | { op: "timerFired"; seq: number }
  | { op: "activityScheduled"; seq: number; type: string; taskQueue: string; args: unknown[] }
  | { op: "activityCompleted"; seq: number; result: unknown }
  | { op: "activityFailed"; seq: number; failure: unknown }
  | { op: "activityCancelRequested"; seq: number }
  | { op: "activityCanceled"; seq: number }
  | { op: "timerCanceled"; seq: number }
  | { op: "signaled"; name: string; args: unknown[] }
  | { op: "cancelRequested" };

let installed = false;

/** The workflow bundle with the recording interceptor, built once per test file. */
export async function replayBundle(): Promise<string> {
  if (!installed) {
    try {
      Runtime.install({ logger: new DefaultLogger("ERROR") });
    } catch {
      // Installed already in this process.
    }
    installed = true;
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: [fileURLToPath(new URL("./replay-interceptors.ts", import.meta.url))],
    logger: new DefaultLogger("ERROR"),
  });
  return code;
}

/** What an activity did: its result, or the error it threw (an ActivityFailure or its cause). */
export type ActivityEnd = { result: unknown } | { error: unknown };

export class ReplayDriver {
  readonly ops: Op[] = [];
  /** Everything the workflow asked for in the last replay, in order. */
  recorded: Recorded[] = [];

  constructor(
    private readonly code: string,
    private readonly input: SpecRunInput,
    private readonly taskQueue: string,
  ) {}

  private history() {
    const h = new HistoryBuilder().started("specRun", this.taskQueue, [this.input]);
    const scheduled = new Map<number, number>();
    const timers = new Map<number, number>();
    let completed = 0;
    for (const o of this.ops) {
      switch (o.op) {
        case "wft":
          completed = h.workflowTask();
          break;
        case "timerStarted":
          timers.set(o.seq, h.timerStarted(completed, String(o.seq), o.ms));
          break;
        case "timerFired":
          h.timerFired(timers.get(o.seq) as number, String(o.seq));
          break;
        case "activityScheduled":
          scheduled.set(o.seq, h.activityScheduled(completed, String(o.seq), o.type, o.taskQueue, o.args));
          break;
        case "activityCompleted":
          h.activityCompleted(scheduled.get(o.seq) as number, o.result);
          break;
        case "activityFailed":
          h.activityFailed(scheduled.get(o.seq) as number, o.failure);
          break;
        case "activityCancelRequested":
          h.activityCancelRequested(completed, scheduled.get(o.seq) as number);
          break;
        case "activityCanceled":
          h.activityCanceled(scheduled.get(o.seq) as number);
          break;
        case "timerCanceled":
          h.timerCanceled(completed, timers.get(o.seq) as number, String(o.seq));
          break;
        case "signaled":
          h.signaled(o.name, o.args);
          break;
        case "cancelRequested":
          h.cancelRequested();
          break;
      }
    }
    return h.pendingWorkflowTask().history();
  }

  /** Replays the history so far plus one pending workflow task; returns what the workflow asked for. */
  async replay(): Promise<Recorded[]> {
    const recorded: Recorded[] = [];
    await Worker.runReplayHistory(
      {
        workflowBundle: { code: this.code },
        sinks: {
          recorder: {
            activity: {
              fn: (
                _info: unknown,
                seq: number,
                type: string,
                args: unknown[],
                options: Record<string, unknown>,
              ) => recorded.push({ kind: "activity", seq, type, args, options }),
              callDuringReplay: true,
            },
            timer: {
              fn: (_info: unknown, seq: number, ms: number) => recorded.push({ kind: "timer", seq, ms }),
              callDuringReplay: true,
            },
            done: {
              fn: (_info: unknown, end: Extract<Recorded, { kind: "done" }>["end"]) =>
                recorded.push({ kind: "done", end }),
              callDuringReplay: true,
            },
          },
        },
      } as unknown as Parameters<typeof Worker.runReplayHistory>[0],
      this.history(),
      `mtor-${this.input.run.run_id}`,
    );
    this.recorded = recorded;
    return recorded;
  }

  /** Commands of the last replay not yet in the history: the pending workflow task's answer. */
  fresh(): Recorded[] {
    const known = new Set(
      this.ops.flatMap((o) =>
        o.op === "timerStarted"
          ? [`timer:${o.seq}`]
          : o.op === "activityScheduled"
            ? [`activity:${o.seq}`]
            : [],
      ),
    );
    return this.recorded.filter((r) => r.kind !== "done" && !known.has(`${r.kind}:${r.seq}`));
  }

  done(): Extract<Recorded, { kind: "done" }> | undefined {
    return this.recorded.find((r): r is Extract<Recorded, { kind: "done" }> => r.kind === "done");
  }

  /** Records the pending workflow task as completed with the commands it issued. */
  commit(extra: Op[] = []): Recorded[] {
    const fresh = this.fresh();
    this.ops.push({ op: "wft" });
    for (const r of fresh) {
      if (r.kind === "timer") this.ops.push({ op: "timerStarted", seq: r.seq, ms: r.ms });
      if (r.kind === "activity") {
        const queue = typeof r.options.taskQueue === "string" ? r.options.taskQueue : this.taskQueue;
        this.ops.push({ op: "activityScheduled", seq: r.seq, type: r.type, taskQueue: queue, args: r.args });
      }
    }
    this.ops.push(...extra);
    return fresh;
  }

  /** Appends an activity's end as a server records it. */
  end(seq: number, end: ActivityEnd): void {
    if ("result" in end) {
      this.ops.push({ op: "activityCompleted", seq, result: end.result });
      return;
    }
    const err = end.error as { cause?: unknown };
    const cause = err && typeof err === "object" && "cause" in err && err.cause ? err.cause : end.error;
    this.ops.push({
      op: "activityFailed",
      seq,
      failure: defaultFailureConverter.errorToFailure(cause, defaultPayloadConverter),
    });
  }

  push(...ops: Op[]): void {
    this.ops.push(...ops);
  }

  /**
   * Runs the workflow to its end, executing each activity it asks for with `execute`, one at a
   * time in the order asked. Returns every activity asked for, in order, and how it ended.
   */
  async runToEnd(
    execute: (a: Extract<Recorded, { kind: "activity" }>) => Promise<ActivityEnd>,
    maxSteps = 40,
  ) {
    const asked: Extract<Recorded, { kind: "activity" }>[] = [];
    await this.replay();
    for (let i = 0; i < maxSteps; i++) {
      const done = this.done();
      if (done) return { asked, end: done.end };
      const fresh = this.commit();
      const activities = fresh.filter(
        (r): r is Extract<Recorded, { kind: "activity" }> => r.kind === "activity",
      );
      if (activities.length === 0)
        throw new Error(`the workflow asked for no activity and did not end: ${JSON.stringify(fresh)}`);
      for (const a of activities) {
        asked.push(a);
        this.end(a.seq, await execute(a));
      }
      await this.replay();
    }
    throw new Error("the workflow did not end");
  }
}
