// `mtor kill ID`: cancel a spec; a running attempt stops at its next heartbeat.
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specAction } from "./spec-actions";

export function killCommand(io: Io) {
  return apiCommand("kill", "cancel a spec (a running attempt stops at its next heartbeat)")
    .argument("<id>", "spec id")
    .action(apiAction(io, (ctx, id: string) => specAction(ctx, id, "kill", {}, "killed")));
}
