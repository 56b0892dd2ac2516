// `mtor report [--since …]`: the night's report — each spec's outcome, grade and flags, and per
// provider runs, pass rate, throughput and cost.

import { parseDuration } from "@mtor/schema";
import { UsageError } from "../http/client";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";

/** `--since` takes an ISO time or a span back from now (`12h`, `90m`). */
export function sinceToIso(since: string | undefined, now = Date.now()): string | undefined {
  if (!since) return undefined;
  const span = parseDuration(since);
  if (span !== null) return new Date(now - span * 1000).toISOString();
  const t = Date.parse(since);
  if (Number.isNaN(t))
    throw new UsageError(`--since ${since}: give an ISO time (2026-11-20T18:00Z) or a span (12h, 90m)`);
  return new Date(t).toISOString();
}

export function reportCommand(io: Io) {
  return apiCommand("report", "the morning report: outcomes, grades, flags, providers, cost")
    .option("--since <when>", "ISO time or a span back from now, e.g. 12h (default: the last 24 hours)")
    .action(
      apiAction(io, async (ctx, opts: { since?: string }) => {
        const since = sinceToIso(opts.since);
        if (ctx.json) return ctx.printJson(await ctx.client.get("/v1/report", { query: { since } }));
        const text = await ctx.client.get<string>("/v1/report", { query: { since }, text: true });
        ctx.io.out(text.trimEnd());
      }),
    );
}
