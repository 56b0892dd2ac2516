// `mtor kill ID...`: cancel specs; a running attempt stops at its next heartbeat.
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specActions } from "./spec-actions";

export function killCommand(io: Io) {
  return apiCommand("kill", "cancel a spec (a running attempt stops at its next heartbeat)")
    .argument("<ids...>", "spec ids")
    .action(apiAction(io, (ctx, ids: string[]) => specActions(ctx, ids, "kill", {}, "killed")));
}
