// `mtor retry ID...`: queue a new attempt of each rejected, failed, dead, canceled or declined spec.
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specActions } from "./spec-actions";

export function retryCommand(io: Io) {
  return apiCommand("retry", "queue a new attempt of a finished spec")
    .argument("<ids...>", "spec ids (e.g. $(mtor list -s dead --ids))")
    .action(
      apiAction(io, (ctx, ids: string[]) => specActions(ctx, ids, "retry", {}, "queued for another attempt")),
    );
}
