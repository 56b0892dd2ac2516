// The Temporal workers of one executor box: per provider, one on the provider's queue (workflows
// and the first step) and one on this box's own queue (the steps that need the box's worktree),
// each running at most the box's capacity for that provider at once.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundle } from "@temporalio/worker";
import type { ExecutorConfig } from "../config";
import type { TemporalActivities } from "./activities";
import { boxQueueFor, taskQueueFor } from "./shared";

/** The workflows module, as a path the bundler can read (TypeScript under tsx, JavaScript when built). */
export function workflowsPath(): string {
  for (const ext of [".ts", ".js"]) {
    const p = fileURLToPath(new URL(`./workflows${ext}`, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error("temporal: workflows module not found next to worker");
}

/** Bundles the workflow code once; every worker of the box shares the bundle. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietBundlerLogger });
  return { code };
}

/** The box's capacity for each provider: its capacity, or fewer where the provider has fewer slots. */
export function providerCapacity(
  config: Pick<ExecutorConfig, "capacity" | "providers">,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, p] of Object.entries(config.providers))
    out[name] = Math.max(1, Math.min(config.capacity, p.slots ?? config.capacity));
  return out;
}

export interface WorkerPlan {
  provider: string;
  taskQueue: string;
  /** Whether this worker polls workflow tasks (the provider queue does, the box queue does not). */
  workflows: boolean;
  maxConcurrentActivityTaskExecutions: number;
}

/** Which workers a box runs: a pure plan, so it is tested without a server. */
export function planWorkers(opts: {
  taskQueuePrefix: string;
  executorId: string;
  capacity: Record<string, number>;
}): WorkerPlan[] {
  return Object.entries(opts.capacity).flatMap(([provider, n]) => [
    {
      provider,
      taskQueue: taskQueueFor(opts.taskQueuePrefix, provider),
      workflows: true,
      maxConcurrentActivityTaskExecutions: n,
    },
    {
      provider,
      taskQueue: boxQueueFor(opts.taskQueuePrefix, provider, opts.executorId),
      workflows: false,
      maxConcurrentActivityTaskExecutions: n,
    },
  ]);
}

export interface TemporalWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueuePrefix: string;
  executorId: string;
  capacity: Record<string, number>;
  activities: TemporalActivities;
  workflowBundle: WorkflowBundle;
  /** How long in-flight activities may finish at shutdown before they are cancelled. */
  shutdownGraceMs?: number;
}

export interface TemporalWorkers {
  workers: Worker[];
  plan: WorkerPlan[];
  /** Runs every worker until shutdown() (or one fails). */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createWorkers(opts: TemporalWorkersOptions): Promise<TemporalWorkers> {
  const plan = planWorkers(opts);
  const workers = await Promise.all(
    plan.map((w) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: w.taskQueue,
        activities: opts.activities,
        ...(w.workflows ? { workflowBundle: opts.workflowBundle } : {}),
        maxConcurrentActivityTaskExecutions: w.maxConcurrentActivityTaskExecutions,
        shutdownGraceTime: opts.shutdownGraceMs ?? 30_000,
      }),
    ),
  );
  return {
    workers,
    plan,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => {
      for (const w of workers) if (w.getState() === "RUNNING") w.shutdown();
    },
  };
}

const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => process.stderr.write(`temporal bundler: ${message}\n`),
  error: (message: string) => process.stderr.write(`temporal bundler: ${message}\n`),
};
