// `mtor approve ID [--grade B+] [--note …]`: accept a spec's branch after review.
import { Grade } from "@mtor/schema";
import { UsageError } from "../http/client";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { specAction } from "./spec-actions";

export function approveCommand(io: Io) {
  return apiCommand("approve", "approve a spec awaiting review")
    .argument("<id>", "spec id")
    .option("-g, --grade <grade>", "A to F, optionally with + or -")
    .option("-m, --note <note>", "a note kept with the review")
    .action(
      apiAction(io, (ctx, id: string, opts: { grade?: string; note?: string }) => {
        if (opts.grade !== undefined && !Grade.safeParse(opts.grade).success) {
          throw new UsageError(`--grade ${opts.grade}: must be A to F, optionally with + or -, e.g. B+`);
        }
        return specAction(ctx, id, "approve", { grade: opts.grade, note: opts.note }, "approved");
      }),
    );
}
