// `engine = "temporal"`: the executor daemon claims runs as usual and hands each to Temporal;
// this box's workers run the steps of any box's runs for the providers it serves.
import { join } from "node:path";
import { Client } from "@temporalio/client";
import { NativeConnection } from "@temporalio/worker";
import { ConfigError, type ExecutorConfig } from "../config";
import { Daemon } from "../daemon";
import { runUntilDrained } from "../daemon/create";
import { reapProcessesUnder } from "../daemon/recover";
import { defaultWiring, type Wiring } from "../daemon/wiring";
import { leaseRenewer } from "../engine/lease";
import { createTemporalActivities } from "./activities";
import { connectionOptions, describeSettings, parseTemporalSettings, type TemporalSettings } from "./config";
import { stopWorkflow, TemporalEngine } from "./engine";
import { bundleWorkflows, createWorkers, providerCapacity } from "./worker";

export { leaseRenewer } from "../engine/lease";
export {
  createTemporalActivities,
  type LeaseState,
  type TemporalActivities,
  type TemporalActivityDeps,
} from "./activities";
export { connectionOptions, parseTemporalSettings, type TemporalSettings } from "./config";
export { stopWorkflow, TemporalEngine, type TemporalEngineOptions } from "./engine";
export * from "./shared";
export { bundleWorkflows, createWorkers, planWorkers, providerCapacity } from "./worker";

export interface TemporalExecutorOptions {
  /** Settings instead of `config.temporal` (tests). */
  settings?: TemporalSettings;
  log?: (line: string) => void;
  /** Installs SIGTERM/SIGINT handlers (drain, then cancel). Default true. */
  handleSignals?: boolean;
  /** What each run is wired with (sandbox already checked); default: defaultWiring(config). */
  wiring?: Wiring;
}

/** Runs the daemon with the Temporal engine and this box's workers until drained. */
export async function runTemporalExecutor(
  config: ExecutorConfig,
  opts: TemporalExecutorOptions = {},
): Promise<void> {
  let settings: TemporalSettings;
  try {
    settings = opts.settings ?? parseTemporalSettings(config.temporal);
  } catch (err) {
    // Named like every other bad key of the config, and the same exit code (2).
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `mtor executor: bad [temporal] config:\n${err.problems.map((p) => `  ${p}`).join("\n")}\n`,
    );
    process.exitCode = 2;
    return;
  }
  const wiring = opts.wiring ?? (await defaultWiring(config, opts.log));
  const executor = await createTemporalExecutor(config, settings, { wiring, log: opts.log });
  if (opts.handleSignals === false) await executor.run();
  else await runUntilDrained(executor);
}

/**
 * Builds a Temporal executor: the connection, the daemon (whose steps this box's workers run),
 * the engine that hands each claimed run to a workflow, and the workers. `run()` serves until
 * the daemon is drained, then shuts the workers down and closes the connection.
 */
export async function createTemporalExecutor(
  config: ExecutorConfig,
  settings: TemporalSettings,
  opts: { wiring: Wiring; log?: (line: string) => void },
): Promise<{ daemon: Daemon; run(): Promise<void> }> {
  const connection = await NativeConnection.connect(connectionOptions(settings)).catch((err: Error) => {
    throw new Error(
      `temporal: cannot connect to ${settings.address} (namespace ${settings.namespace}): ${err.message}`,
    );
  });
  try {
    const client = new Client({ connection, namespace: settings.namespace });
    let engine: TemporalEngine | undefined;
    const daemon = new Daemon({
      config,
      wiring: opts.wiring,
      log: opts.log,
      runner: (run) => (engine as TemporalEngine).start(run),
      // Runs claimed before a restart still have their workflows: attach to them.
      resumeLeftovers: true,
    });
    daemon.log(describeSettings(settings));
    const renewLease = leaseRenewer(daemon.client, () => daemon.load(), daemon.log);
    engine = new TemporalEngine({
      client,
      taskQueuePrefix: settings.taskQueuePrefix,
      timing: settings.timing,
      renewLease,
      heartbeatMs: config.heartbeatMs,
      log: daemon.log,
    });
    const activities = createTemporalActivities({
      // The daemon's own steps: one workspace pool, one reviewer breaker per box.
      activities: daemon.activities,
      executorId: config.id,
      taskQueuePrefix: settings.taskQueuePrefix,
      renewLease,
      stopRun: (workflowId, reason) => stopWorkflow(client, workflowId, reason),
      heartbeatMs: config.heartbeatMs,
      capacity: providerCapacity(config),
      log: daemon.log,
    });
    // Harnesses an earlier process of this box left behind: their activities time out and the
    // workflows fail them; the processes must not keep committing.
    const reaped = ["runs", "pool"].flatMap((dir) => reapProcessesUnder(join(config.workdir, dir)));
    if (reaped.length > 0)
      daemon.log(`killed ${reaped.length} harness process(es) left by an earlier executor process`);
    const workers = await createWorkers({
      connection,
      namespace: settings.namespace,
      taskQueuePrefix: settings.taskQueuePrefix,
      executorId: config.id,
      capacity: providerCapacity(config),
      activities,
      workflowBundle: await bundleWorkflows(),
      shutdownGraceMs: config.drainMs,
    });
    for (const w of workers.plan) {
      daemon.log(
        `temporal worker on ${w.taskQueue}: ${w.maxConcurrentActivityTaskExecutions} at once${w.workflows ? ", with workflows" : ""}`,
      );
    }
    const run = async () => {
      try {
        // The workers outlive the daemon's drain: this box may be the one running its runs'
        // steps. A worker that dies (the cluster gone for good, a fatal error) drains the
        // executor: it claims nothing it could not run, and exits with the worker's error.
        let workerError: Error | undefined;
        const serving = workers.run().catch((err: Error) => {
          workerError = err;
          daemon.log(`temporal workers stopped: ${err.message}; draining`);
          void daemon.drain();
        });
        try {
          await daemon.run();
        } finally {
          workers.shutdown();
          await serving;
        }
        if (workerError) throw workerError;
      } finally {
        await connection.close();
      }
    };
    return { daemon, run };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
