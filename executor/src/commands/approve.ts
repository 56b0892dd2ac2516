// `mtor approve ID... [--grade B+] [--note …]`: accept specs' branches after review.
import { Grade } from "@mtor/schema";
import { UsageError } from "../http/client";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specActions } from "./spec-actions";

export function approveCommand(io: Io) {
  return apiCommand("approve", "approve a spec awaiting review")
    .argument("<ids...>", "spec ids (each gets the same grade and note)")
    .option("-g, --grade <grade>", "A to F, optionally with + or -")
    .option("-m, --note <note>", "a note kept with the review")
    .action(
      apiAction(io, (ctx, ids: string[], opts: { grade?: string; note?: string }) => {
        if (opts.grade !== undefined && !Grade.safeParse(opts.grade).success) {
          throw new UsageError(`--grade ${opts.grade}: must be A to F, optionally with + or -, e.g. B+`);
        }
        return specActions(ctx, ids, "approve", { grade: opts.grade, note: opts.note }, "approved");
      }),
    );
}
