// `mtor list`: the queue, newest first; `--watch` redraws it with a progress line until Ctrl-C.

import { setTimeout as sleep } from "node:timers/promises";
import { SPEC_STATUSES, type SpecList, type SpecSummary } from "@mtor/schema";
import { UsageError } from "../http/client";
import { ago, flagList, table } from "../http/output";
import { apiAction, apiCommand, intOption } from "./api-command";
import type { Io } from "./io";
import { CLEAR_SCREEN } from "./terminal";

interface ListOptions {
  count: string;
  status?: string;
  cursor?: string;
  watch?: boolean;
  interval: string;
  ids?: boolean;
}

export function listCommand(io: Io) {
  return apiCommand("list", "list specs, newest first")
    .alias("ls")
    .option("-n, --count <n>", "how many", "50")
    .option("-s, --status <statuses>", `only these statuses, comma-separated (${SPEC_STATUSES.join(", ")})`)
    .option("--cursor <cursor>", "continue after a previous page (next_cursor)")
    .option("--ids", "print only the ids, one a line (for `mtor retry $(mtor list -s dead --ids)`)")
    .option("-w, --watch", "redraw until Ctrl-C")
    .option("--interval <seconds>", "seconds between redraws with --watch", "2")
    .action(
      apiAction(io, async (ctx, opts: ListOptions) => {
        const count = intOption("--count", opts.count, 1);
        const interval = intOption("--interval", opts.interval, 1) ?? 2;
        if (opts.status) {
          for (const s of opts.status.split(",")) {
            if (!(SPEC_STATUSES as readonly string[]).includes(s.trim())) {
              throw new UsageError(`--status ${s}: unknown status; one of ${SPEC_STATUSES.join(", ")}`);
            }
          }
        }
        const fetchPage = (n = count, cursor = opts.cursor) =>
          ctx.client.get<SpecList>("/v1/specs", { query: { count: n, status: opts.status, cursor } });

        if (opts.ids && (opts.watch || ctx.json))
          throw new UsageError("--ids goes with neither --watch nor --json");
        if (opts.ids) {
          // Up to --count ids, over as many pages as that takes (a page holds at most 200).
          let cursor = opts.cursor;
          let left = count ?? 50;
          while (left > 0) {
            const page = await fetchPage(Math.min(left, 200), cursor);
            for (const s of page.specs) ctx.io.out(s.id);
            left -= page.specs.length;
            cursor = page.next_cursor ?? undefined;
            if (!cursor || page.specs.length === 0) return;
          }
          if (cursor) ctx.io.err(`more: mtor list --ids --cursor ${cursor}`);
          return;
        }
        if (!opts.watch) {
          const page = await fetchPage();
          if (ctx.json) return ctx.printJson(page);
          ctx.io.out(renderSpecs(page.specs, ctx.io.width));
          if (page.next_cursor) ctx.io.err(`more: mtor list --cursor ${page.next_cursor}`);
          return;
        }

        // Watch: each frame is the table plus one progress line; a terminal is cleared between
        // frames, a pipe gets frames one after another (or JSON lines with --json).
        while (!ctx.io.signal.aborted) {
          const page = await fetchPage();
          if (ctx.json) ctx.io.out(JSON.stringify(page));
          else {
            if (ctx.io.isTTY) ctx.io.out(CLEAR_SCREEN);
            ctx.io.out(renderSpecs(page.specs, ctx.io.width));
            ctx.io.out(progressLine(page.specs, interval));
          }
          try {
            await sleep(interval * 1000, undefined, { signal: ctx.io.signal });
          } catch {
            break;
          }
        }
      }),
    );
}

export function renderSpecs(specs: SpecSummary[], width: number): string {
  if (specs.length === 0) return "no specs";
  return table(
    specs,
    [
      { header: "ID", value: (s) => s.id },
      { header: "STATUS", value: (s) => s.status },
      { header: "TRY", value: (s) => String(s.attempt), right: true },
      // The provider that ran it; before any run, the spec's own field (`any` or a name).
      { header: "PROVIDER", value: (s) => s.run_provider ?? s.provider },
      { header: "UPDATED", value: (s) => ago(s.updated_at) },
      { header: "FLAGS", value: (s) => flagList(s.flags), flex: true },
      { header: "TITLE", value: (s) => s.title, flex: true },
    ],
    width,
  );
}

/** "12:04:31  2 running · 3 queued · 1 awaiting_review — every 2s, Ctrl-C to stop" */
export function progressLine(specs: SpecSummary[], intervalS: number, now = new Date()): string {
  const counts = new Map<string, number>();
  for (const s of specs) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const order = ["running", "leased", "queued", "awaiting_review", "rejected", "failed", "approved"];
  const rank = (status: string) => (order.includes(status) ? order.indexOf(status) : order.length);
  const parts = [...counts.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).map(([k, v]) => `${v} ${k}`);
  return `${now.toISOString().slice(11, 19)}  ${parts.join(" · ") || "empty"} — every ${intervalS}s, Ctrl-C to stop`;
}
