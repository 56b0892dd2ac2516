// Bundled with the workflow in the replay tests only: reports, through a sink that runs during
// replay, every activity and timer the workflow asks for and how the workflow ended.
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from "@temporalio/workflow";

export interface RecorderSinks extends Sinks {
  recorder: {
    activity(seq: number, type: string, args: unknown[], options: Record<string, unknown>): void;
    timer(seq: number, ms: number): void;
    done(end: { result?: unknown; error?: { name: string; message: string } }): void;
  };
}

const { recorder } = proxySinks<RecorderSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        recorder.activity(input.seq, input.activityType, input.args, { ...input.options } as Record<
          string,
          unknown
        >);
        return next(input);
      },
      startTimer(input, next) {
        recorder.timer(input.seq, input.durationMs);
        return next(input);
      },
    },
  ],
  inbound: [
    {
      async execute(input, next) {
        try {
          const result = await next(input);
          recorder.done({ result });
          return result;
        } catch (err) {
          const e = err as Error;
          recorder.done({ error: { name: e?.name ?? "Error", message: e?.message ?? String(err) } });
          throw err;
        }
      },
    },
  ],
});
