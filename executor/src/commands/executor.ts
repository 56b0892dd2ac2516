// `mtor executor --config FILE`: the daemon. Refuses a bad config naming the key, then pulls runs
// until SIGTERM or SIGINT drains it (a second signal cancels running work at once).
import { Command } from "commander";
import { ConfigError, loadConfig } from "../config";
import { Daemon } from "../daemon";
import { defaultWiring } from "../daemon/wiring";
import { SandboxUnavailable } from "../sandbox";

export function executorCommand(): Command {
  return new Command("executor")
    .description("run an executor: pull specs, run the harness, push a branch, report verdicts")
    .requiredOption("-c, --config <file>", "executor config (TOML)", process.env.MTOR_CONFIG)
    .action(async (opts: { config: string }) => {
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig(opts.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(
          `mtor executor: bad config ${opts.config}:\n${err.problems.map((p) => `  ${p}`).join("\n")}\n`,
        );
        process.exitCode = 2;
        return;
      }
      let wiring: Awaited<ReturnType<typeof defaultWiring>>;
      try {
        // The sandbox is checked before anything else: without it the executor does not start.
        wiring = await defaultWiring(config, (line) => console.log(line));
      } catch (err) {
        if (!(err instanceof SandboxUnavailable)) throw err;
        process.stderr.write(`mtor executor: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      if (config.engine === "temporal") {
        const { runTemporalExecutor } = (await import(pathOf("../temporal/index.ts"))) as {
          runTemporalExecutor: (c: typeof config, o: { wiring: typeof wiring }) => Promise<void>;
        };
        await runTemporalExecutor(config, { wiring });
        return;
      }
      const daemon = new Daemon({ config, wiring });
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        daemon.log(signals === 1 ? `${sig}: draining` : `${sig}: cancelling running work`);
        void daemon.drain(signals > 1);
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      await daemon.run();
      if (daemon.exitCode !== 0) process.exitCode = daemon.exitCode;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    });
}

// The Temporal engine is optional; its module is resolved at run time only when configured.
function pathOf(rel: string): string {
  return new URL(rel, import.meta.url).href;
}
