// `mtor up` (= `npm start`): the control plane, a cron ticker, the demo provider or real ones,
// and one executor, on this machine, until Ctrl-C.

import { resolve } from "node:path";
import { Command } from "commander";
import { UsageError } from "../http/client";
import { runUp } from "../up/up";
import { intOption } from "./api-command";
import type { Io } from "./io";
import { onStopSignals } from "./signals";

export function upCommand(io: Io) {
  return new Command("up")
    .description("run the whole loop locally: control plane, cron, executor, dashboard (Ctrl-C stops)")
    .option("--port <port>", "control plane port", "8787")
    .option("--host <address>", "address to listen on (0.0.0.0: reachable from your network)", "127.0.0.1")
    .option(
      "--public-url <url>",
      "the URL a phone reaches this stack at, for action links and ntfy click URLs",
    )
    .option("--state-dir <dir>", "where state, secrets and the sandbox repo live", ".mtor")
    .option("--no-config", "do not write ~/.config/mtor/config.toml")
    .option("-v, --verbose", "show the control plane's, executor's and demo model's own output")
    .action(
      async (opts: {
        port: string;
        host: string;
        publicUrl?: string;
        stateDir: string;
        config: boolean;
        verbose?: boolean;
      }) => {
        const port = intOption("--port", opts.port, 1) as number;
        if (opts.publicUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(opts.publicUrl))
          throw new UsageError(`--public-url must be an http(s) URL, not ${JSON.stringify(opts.publicUrl)}`);
        const { signal, dispose } = onStopSignals(io);
        try {
          io.exitCode = await runUp({
            stateDir: resolve(io.cwd, opts.stateDir),
            port,
            host: opts.host,
            publicUrl: opts.publicUrl,
            env: io.env,
            out: (l) => io.out(l),
            verbose: Boolean(opts.verbose),
            writeConfig: opts.config,
            signal,
          });
        } finally {
          dispose();
        }
      },
    );
}
