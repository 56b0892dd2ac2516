// The operator commands of the `mtor` CLI and the runner that gives them exit codes:
// 0 ok, 1 the server refused or the thing was not found, 2 usage error, 3 unreachable.
import { type Command, CommanderError } from "commander";
import { UsageError } from "../http/client";
import { approveCommand } from "./approve";
import { declineCommand } from "./decline";
import { demoCommand } from "./demo";
import { devCommand } from "./dev";
import { dispatchCommand } from "./dispatch";
import { executorsCommand } from "./executors";
import { freezeCommand, thawCommand } from "./freeze";
import { gatesCommand } from "./gates";
import type { Io } from "./io";
import { keysCommand } from "./keys";
import { killCommand } from "./kill";
import { listCommand } from "./list";
import { providersCommand } from "./providers";
import { reportCommand } from "./report";
import { retryCommand } from "./retry";
import { settingsCommand } from "./settings";
import { showCommand } from "./show";
import { statusCommand } from "./status";
import { tokenCommand } from "./token";
import { upCommand } from "./up";
import { webhooksCommand } from "./webhooks";

export type { Io } from "./io";
export { processIo } from "./io";

/** The local stack and every command that talks to the operator API, in `--help` order. */
export function operatorCommands(io: Io): Command[] {
  return [
    upCommand(io),
    devCommand(io),
    demoCommand(io),
    tokenCommand(io),
    keysCommand(io),
    dispatchCommand(io),
    listCommand(io),
    showCommand(io),
    killCommand(io),
    retryCommand(io),
    approveCommand(io),
    declineCommand(io),
    statusCommand(io),
    freezeCommand(io),
    thawCommand(io),
    providersCommand(io),
    gatesCommand(io),
    settingsCommand(io),
    executorsCommand(io),
    reportCommand(io),
    webhooksCommand(io),
  ];
}

/** Routes commander's own output and exits through `io`, recursively. */
function wire(cmd: Command, io: Io): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  cmd.showHelpAfterError("(run with --help for usage)");
  for (const sub of cmd.commands) wire(sub, io);
}

/**
 * Parses `argv` (without node and the script) and runs the command. Returns the exit code
 * instead of exiting, so tests run the CLI in-process.
 */
export async function runProgram(program: Command, argv: string[], io: Io): Promise<number> {
  wire(program, io);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(err.code);
      return ok ? 0 : 2;
    }
    io.err(`mtor: ${(err as Error)?.message ?? String(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
  return io.exitCode;
}
