// Builds a workflow history as Temporal's server records it, so the real workflow code can be
// replayed by a replay Worker against scripted activity results, without a server.
import { defaultPayloadConverter } from "@temporalio/common";
import proto, { type temporal } from "@temporalio/proto";

/** A value as Temporal's default converter puts it on the wire (undefined included). */
export function payload(value: unknown) {
  return defaultPayloadConverter.toPayload(value);
}

const duration = (s: number) => ({ seconds: Math.floor(s), nanos: Math.round((s % 1) * 1e9) });

type Attrs = Record<string, unknown>;

export class HistoryBuilder {
  private readonly events: Attrs[] = [];
  private time = Date.parse("2026-11-21T20:00:00Z");

  private add(eventType: string, attrsKey: string, attrs: Attrs): number {
    const eventId = this.events.length + 1;
    this.time += 10;
    this.events.push({
      eventId,
      eventTime: { seconds: Math.floor(this.time / 1000), nanos: (this.time % 1000) * 1e6 },
      eventType,
      [attrsKey]: attrs,
    });
    return eventId;
  }

  started(workflowType: string, taskQueue: string, input: unknown[]): this {
    this.add("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "workflowExecutionStartedEventAttributes", {
      workflowType: { name: workflowType },
      taskQueue: { name: taskQueue, kind: "TASK_QUEUE_KIND_NORMAL" },
      input: { payloads: input.map(payload) },
      workflowTaskTimeout: duration(10),
      originalExecutionRunId: "11111111-1111-1111-1111-111111111111",
      firstExecutionRunId: "11111111-1111-1111-1111-111111111111",
      attempt: 1,
      identity: "test",
    });
    return this;
  }

  /** A workflow task: scheduled, started, completed. Returns the completed event's id. */
  workflowTask(): number {
    const scheduled = this.add("EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", "workflowTaskScheduledEventAttributes", {
      taskQueue: { name: "q" },
      startToCloseTimeout: duration(10),
      attempt: 1,
    });
    const started = this.add("EVENT_TYPE_WORKFLOW_TASK_STARTED", "workflowTaskStartedEventAttributes", {
      scheduledEventId: scheduled,
      identity: "test",
      requestId: `r${scheduled}`,
    });
    return this.add("EVENT_TYPE_WORKFLOW_TASK_COMPLETED", "workflowTaskCompletedEventAttributes", {
      scheduledEventId: scheduled,
      startedEventId: started,
      identity: "test",
    });
  }

  /** A workflow task the workflow has not answered yet: replay runs it and checks nothing after. */
  pendingWorkflowTask(): this {
    const scheduled = this.add("EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", "workflowTaskScheduledEventAttributes", {
      taskQueue: { name: "q" },
      startToCloseTimeout: duration(10),
      attempt: 1,
    });
    this.add("EVENT_TYPE_WORKFLOW_TASK_STARTED", "workflowTaskStartedEventAttributes", {
      scheduledEventId: scheduled,
      identity: "test",
      requestId: `r${scheduled}`,
    });
    return this;
  }

  timerStarted(completed: number, timerId: string, ms: number): number {
    return this.add("EVENT_TYPE_TIMER_STARTED", "timerStartedEventAttributes", {
      timerId,
      startToFireTimeout: duration(ms / 1000),
      workflowTaskCompletedEventId: completed,
    });
  }

  timerFired(startedEventId: number, timerId: string): this {
    this.add("EVENT_TYPE_TIMER_FIRED", "timerFiredEventAttributes", {
      timerId,
      startedEventId: startedEventId,
    });
    return this;
  }

  timerCanceled(completed: number, startedEventId: number, timerId: string): this {
    this.add("EVENT_TYPE_TIMER_CANCELED", "timerCanceledEventAttributes", {
      timerId,
      startedEventId: startedEventId,
      workflowTaskCompletedEventId: completed,
      identity: "test",
    });
    return this;
  }

  activityScheduled(
    completed: number,
    activityId: string,
    activityType: string,
    taskQueue: string,
    input: unknown[],
  ): number {
    return this.add("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "activityTaskScheduledEventAttributes", {
      activityId,
      activityType: { name: activityType },
      taskQueue: { name: taskQueue, kind: "TASK_QUEUE_KIND_NORMAL" },
      input: { payloads: input.map(payload) },
      scheduleToCloseTimeout: duration(0),
      scheduleToStartTimeout: duration(0),
      startToCloseTimeout: duration(60),
      heartbeatTimeout: duration(0),
      workflowTaskCompletedEventId: completed,
    });
  }

  /** Started and completed with `result`. */
  activityCompleted(scheduled: number, result: unknown): this {
    const started = this.add("EVENT_TYPE_ACTIVITY_TASK_STARTED", "activityTaskStartedEventAttributes", {
      scheduledEventId: scheduled,
      identity: "box",
      requestId: `a${scheduled}`,
      attempt: 1,
    });
    this.add("EVENT_TYPE_ACTIVITY_TASK_COMPLETED", "activityTaskCompletedEventAttributes", {
      result: { payloads: [payload(result)] },
      scheduledEventId: scheduled,
      startedEventId: started,
      identity: "box",
    });
    return this;
  }

  /** Started and failed with `failure` (a Temporal failure as the failure converter makes it). */
  activityFailed(scheduled: number, failure: unknown): this {
    const started = this.add("EVENT_TYPE_ACTIVITY_TASK_STARTED", "activityTaskStartedEventAttributes", {
      scheduledEventId: scheduled,
      identity: "box",
      requestId: `a${scheduled}`,
      attempt: 1,
    });
    this.add("EVENT_TYPE_ACTIVITY_TASK_FAILED", "activityTaskFailedEventAttributes", {
      failure,
      scheduledEventId: scheduled,
      startedEventId: started,
      identity: "box",
      retryState: "RETRY_STATE_NON_RETRYABLE_FAILURE",
    });
    return this;
  }

  /** Started, then cancelled (the activity acknowledged the cancel request). */
  activityCanceled(scheduled: number): this {
    const started = this.add("EVENT_TYPE_ACTIVITY_TASK_STARTED", "activityTaskStartedEventAttributes", {
      scheduledEventId: scheduled,
      identity: "box",
      requestId: `a${scheduled}`,
      attempt: 1,
    });
    this.add("EVENT_TYPE_ACTIVITY_TASK_CANCELED", "activityTaskCanceledEventAttributes", {
      scheduledEventId: scheduled,
      startedEventId: started,
      identity: "box",
    });
    return this;
  }

  activityCancelRequested(completed: number, scheduled: number): this {
    this.add("EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED", "activityTaskCancelRequestedEventAttributes", {
      scheduledEventId: scheduled,
      workflowTaskCompletedEventId: completed,
    });
    return this;
  }

  cancelRequested(): this {
    this.add(
      "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED",
      "workflowExecutionCancelRequestedEventAttributes",
      {
        cause: "stop",
        identity: "test",
      },
    );
    return this;
  }

  signaled(signalName: string, input: unknown[]): this {
    this.add("EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED", "workflowExecutionSignaledEventAttributes", {
      signalName,
      input: { payloads: input.map(payload) },
      identity: "test",
    });
    return this;
  }

  /** The history as the protobuf object a replay Worker takes. */
  history(): temporal.api.history.v1.History {
    return proto.temporal.api.history.v1.History.fromObject({ events: this.events });
  }
}
