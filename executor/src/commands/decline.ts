// `mtor decline ID [--note …] [--retry]`: turn a branch down, optionally with another attempt
// that carries the note as feedback.
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specAction } from "./spec-actions";

export function declineCommand(io: Io) {
  return apiCommand("decline", "decline a spec awaiting review")
    .argument("<id>", "spec id")
    .option("-m, --note <note>", "why; with --retry it is the next attempt's feedback")
    .option("--retry", "queue a new attempt with the note as feedback")
    .action(
      apiAction(io, (ctx, id: string, opts: { note?: string; retry?: boolean }) =>
        specAction(
          ctx,
          id,
          "decline",
          { note: opts.note, retry: Boolean(opts.retry) },
          opts.retry ? "declined and queued again" : "declined",
        ),
      ),
    );
}
