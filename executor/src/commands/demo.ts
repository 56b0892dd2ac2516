// `mtor demo` (= `npm run demo`): the example specs through a throwaway local stack with the
// scripted demo model, progress while they run, then the morning report.

import { join, resolve } from "node:path";
import { Command } from "commander";
import { REPO_ROOT } from "../local/control-plane";
import { runDemo } from "../up/demo";
import { intOption } from "./api-command";
import type { Io } from "./io";
import { onStopSignals } from "./signals";

export function demoCommand(io: Io) {
  return new Command("demo")
    .description("dispatch the example specs to a throwaway local stack and print the morning report")
    .option("--examples <dir>", "directory of example specs", join(REPO_ROOT, "examples"))
    .option("--timeout <seconds>", "give up waiting after this long", "240")
    .option("--keep", "keep the throwaway state directory")
    .option("--state-dir <dir>", "use this state directory (kept) instead of a throwaway one")
    .option("-v, --verbose", "show the control plane's, executor's and demo model's own output")
    .action(
      async (opts: {
        examples: string;
        timeout: string;
        keep?: boolean;
        verbose?: boolean;
        stateDir?: string;
      }) => {
        const timeoutS = intOption("--timeout", opts.timeout, 1) as number;
        const { signal, dispose } = onStopSignals(io);
        try {
          io.exitCode = await runDemo({
            examplesDir: resolve(io.cwd, opts.examples),
            env: io.env,
            out: (l) => io.out(l),
            verbose: Boolean(opts.verbose),
            timeoutS,
            keep: Boolean(opts.keep),
            stateDir: opts.stateDir ? resolve(io.cwd, opts.stateDir) : undefined,
            signal,
          });
        } finally {
          dispose();
        }
      },
    );
}
