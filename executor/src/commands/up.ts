// `mtor up` (= `npm start`): the control plane, a cron ticker, the demo provider or real ones,
// and one executor, on this machine, until Ctrl-C.

import { resolve } from "node:path";
import { Command } from "commander";
import { runUp } from "../up/up";
import { intOption } from "./api-command";
import type { Io } from "./io";
import { onStopSignals } from "./signals";

export function upCommand(io: Io) {
  return new Command("up")
    .description("run the whole loop locally: control plane, cron, executor, dashboard (Ctrl-C stops)")
    .option("--port <port>", "control plane port", "8787")
    .option("--state-dir <dir>", "where state, secrets and the sandbox repo live", ".mtor")
    .option("--no-config", "do not write ~/.config/mtor/config.toml")
    .option("-v, --verbose", "show the control plane's, executor's and demo model's own output")
    .action(async (opts: { port: string; stateDir: string; config: boolean; verbose?: boolean }) => {
      const port = intOption("--port", opts.port, 1) as number;
      const { signal, dispose } = onStopSignals(io);
      try {
        io.exitCode = await runUp({
          stateDir: resolve(io.cwd, opts.stateDir),
          port,
          env: io.env,
          out: (l) => io.out(l),
          verbose: Boolean(opts.verbose),
          writeConfig: opts.config,
          signal,
        });
      } finally {
        dispose();
      }
    });
}
