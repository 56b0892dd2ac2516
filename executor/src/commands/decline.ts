// `mtor decline ID... [--note …] [--retry]`: turn branches down, optionally each with another
// attempt that carries the note as feedback.
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specActions } from "./spec-actions";

export function declineCommand(io: Io) {
  return apiCommand("decline", "decline a spec awaiting review")
    .argument("<ids...>", "spec ids (each gets the same note)")
    .option("-m, --note <note>", "why; with --retry it is the next attempt's feedback")
    .option("--retry", "queue a new attempt with the note as feedback")
    .action(
      apiAction(io, (ctx, ids: string[], opts: { note?: string; retry?: boolean }) =>
        specActions(
          ctx,
          ids,
          "decline",
          { note: opts.note, retry: Boolean(opts.retry) },
          opts.retry ? "declined and queued again" : "declined",
        ),
      ),
    );
}
