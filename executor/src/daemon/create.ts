// One place that builds an executor for either engine: the sandbox-checked wiring, the daemon
// and its steps, and for Temporal the connection, the engine and this box's workers.
import type { ExecutorConfig } from "../config";
import { Daemon } from "./index";
import { defaultWiring, type Wiring } from "./wiring";

export type EngineName = ExecutorConfig["engine"];

/** A built executor: `run()` claims and runs until the daemon is drained (`daemon.drain()`). */
export interface Executor {
  daemon: Daemon;
  run(): Promise<void>;
}

export interface CreateExecutorOptions {
  /** What each run is wired with; default defaultWiring(config), which checks the sandbox first. */
  wiring?: Wiring;
  log?: (line: string) => void;
}

/**
 * Builds the executor `config` describes on `engine`. Throws SandboxUnavailable when the sandbox
 * cannot start, and ConfigError for a bad `[temporal]` table.
 */
export async function createExecutor(
  config: ExecutorConfig,
  engine: EngineName,
  opts: CreateExecutorOptions = {},
): Promise<Executor> {
  const wiring = opts.wiring ?? (await defaultWiring(config, opts.log ?? ((line) => console.log(line))));
  if (engine === "temporal") {
    // The Temporal engine is optional; its module is loaded only when configured.
    const temporal = (await import(pathOf("../temporal/index.ts"))) as typeof import("../temporal/index");
    const settings = temporal.parseTemporalSettings(config.temporal);
    return temporal.createTemporalExecutor(config, settings, { wiring, log: opts.log });
  }
  const daemon = new Daemon({ config, wiring, log: opts.log });
  return { daemon, run: () => daemon.run() };
}

/** Runs `executor` until drained: SIGTERM or SIGINT drains it, a second one cancels running work. */
export async function runUntilDrained(executor: Executor): Promise<void> {
  const { daemon } = executor;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    daemon.log(signals === 1 ? `${sig}: draining` : `${sig}: cancelling running work`);
    void daemon.drain(signals > 1);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await executor.run();
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}

function pathOf(rel: string): string {
  return new URL(rel, import.meta.url).href;
}
