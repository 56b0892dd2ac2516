// `mtor retry ID`: queue a new attempt of a rejected, failed, dead, canceled or declined spec.
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specAction } from "./spec-actions";

export function retryCommand(io: Io) {
  return apiCommand("retry", "queue a new attempt of a finished spec")
    .argument("<id>", "spec id")
    .action(
      apiAction(io, (ctx, id: string) => specAction(ctx, id, "retry", {}, "queued for another attempt")),
    );
}
