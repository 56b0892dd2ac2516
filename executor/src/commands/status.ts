// `mtor status`: one glance — frozen or not, counts by status, providers and executors.
import type { StatusView } from "@mtor/schema";
import { budgetLines } from "@mtor/schema/format";
import { apiAction, apiCommand } from "./api-command";
import { renderExecutors } from "./executors";
import type { Io } from "./io";
import { renderProviders } from "./providers";
import { reviewBacklogLine, windowLines } from "./settings";

export function statusCommand(io: Io) {
  return apiCommand("status", "fleet at a glance: freeze, counts, providers, executors").action(
    apiAction(io, async (ctx) => {
      const s = await ctx.client.get<StatusView>("/v1/status");
      if (ctx.json) return ctx.printJson(s);
      const counts = Object.entries(s.counts ?? {})
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(" · ");
      ctx.io.out(`fleet ${s.frozen ? "FROZEN (no new claims)" : "running"}   ${counts || "no specs"}`);
      const backlog = reviewBacklogLine(s.review_backlog);
      if (backlog) ctx.io.out(backlog);
      for (const line of windowLines(s.windows)) ctx.io.out(line);
      if (s.budget) for (const line of budgetLines(s.budget)) ctx.io.out(line);
      ctx.io.out("");
      ctx.io.out(renderProviders(s.providers ?? [], ctx.io.width));
      ctx.io.out("");
      ctx.io.out(renderExecutors(s.executors ?? [], ctx.io.width));
    }),
  );
}
