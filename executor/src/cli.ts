// The `mtor` command line: one commander program, one file per command under ./commands.
import { Command } from "commander";
import { executorCommand } from "./commands/executor";
import { EXECUTOR_VERSION } from "./daemon";

const program = new Command("mtor")
  .description("mtor: an overnight queue for coding agents")
  .version(EXECUTOR_VERSION)
  .showHelpAfterError();

program.addCommand(executorCommand());

await program.parseAsync(process.argv);
