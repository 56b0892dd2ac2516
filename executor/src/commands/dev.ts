// `mtor dev` (= `npm run dev`): the control plane from `.dev.vars` with the cron ticker.
import { Command } from "commander";
import { UsageError } from "../http/client";
import { runDev } from "../up/dev";
import { intOption } from "./api-command";
import type { Io } from "./io";
import { onStopSignals } from "./signals";

const collect = (value: string, previous: string[]) => [...previous, value];

export function devCommand(io: Io) {
  return new Command("dev")
    .description("run the control plane alone in local workerd (.dev.vars) with the cron ticker")
    .option("--port <port>", "control plane port", "8787")
    .option("--host <address>", "address to listen on (0.0.0.0 to reach it from your network)", "127.0.0.1")
    .option("--tick <seconds>", "seconds between monitor passes", "60")
    .option("--var <name:value>", "a variable on top of .dev.vars (repeatable)", collect, [])
    .option("--persist-to <dir>", "where workerd keeps its state (default: wrangler's, .wrangler/state)")
    .action(async (opts: { port: string; host: string; tick: string; var: string[]; persistTo?: string }) => {
      const vars: Record<string, string> = {};
      for (const v of opts.var) {
        const colon = v.indexOf(":");
        if (colon <= 0) throw new UsageError(`--var wants NAME:VALUE, got ${JSON.stringify(v)}`);
        vars[v.slice(0, colon)] = v.slice(colon + 1);
      }
      const { signal, dispose } = onStopSignals(io);
      try {
        io.exitCode = await runDev({
          port: intOption("--port", opts.port, 1) as number,
          host: opts.host,
          tickS: intOption("--tick", opts.tick, 1) as number,
          vars,
          persistDir: opts.persistTo,
          out: (l) => io.out(l),
          signal,
        });
      } finally {
        dispose();
      }
    });
}
