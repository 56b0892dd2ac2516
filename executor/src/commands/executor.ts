// `mtor executor --config FILE`: the daemon. Refuses a bad config naming the key, then pulls runs
// until SIGTERM or SIGINT drains it (a second signal cancels running work at once).
import { Command } from "commander";
import { ConfigError, loadConfig } from "../config";
import { createExecutor, type Executor, runUntilDrained } from "../daemon/create";
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
      let executor: Executor;
      try {
        // The sandbox is checked before anything else: without it the executor does not start.
        executor = await createExecutor(config, config.engine);
      } catch (err) {
        if (err instanceof SandboxUnavailable) {
          process.stderr.write(`mtor executor: ${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        // Named like every other bad key of the config, and the same exit code (2).
        if (err instanceof ConfigError) {
          process.stderr.write(
            `mtor executor: bad [temporal] config:\n${err.problems.map((p) => `  ${p}`).join("\n")}\n`,
          );
          process.exitCode = 2;
          return;
        }
        throw err;
      }
      await runUntilDrained(executor);
      const { daemon } = executor;
      if (daemon.exitCode !== 0) process.exitCode = daemon.exitCode;
    });
}
