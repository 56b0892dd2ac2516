// The `mtor` command line: one commander program, one file per command under ./commands.
import { Command } from "commander";
import { executorCommand } from "./commands/executor";
import { operatorCommands, processIo, runProgram } from "./commands/index";
import { EXECUTOR_VERSION } from "./daemon";
import { gateCommandSpec } from "./gates/cli";

const program = new Command("mtor")
  .description("mtor: an overnight queue for coding agents")
  .version(EXECUTOR_VERSION)
  .showHelpAfterError();

const io = processIo();
for (const command of operatorCommands(io)) program.addCommand(command);
program.addCommand(executorCommand());
program.addCommand(gateCommandSpec(io));

// Exit codes: 0 ok, 1 refused or not found, 2 usage error, 3 control plane unreachable.
const code = await runProgram(program, process.argv.slice(2), io);
if (code !== 0) process.exitCode = code;
