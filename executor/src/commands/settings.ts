// `mtor settings`: the fleet's night controls; `--max-awaiting-review N [--repo NAME]` sets the
// review backlog limit fleet-wide or for one repo (0 = off; `--repo NAME --clear` drops a repo's);
// `--budget USD [--provider NAME]` the spend budget per night.
import type { SettingsView } from "@mtor/schema";
import { budgetLines, usd } from "@mtor/schema/format";
import { UsageError } from "../http/client";
import { table } from "../http/output";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";

const limit = (n: number | null) => (n === null ? "fleet's" : n === 0 ? "off" : String(n));

/** The settings as a person reads them: the limit, the backlog, and each repo's own. */
export function renderSettings(s: SettingsView, width = 100): string {
  const b = s.review_backlog;
  const lines = [
    `max_awaiting_review ${limit(s.max_awaiting_review)}   awaiting review ${b.awaiting_review}${
      b.holding ? "   HOLDING new claims (review_backlog)" : ""
    }`,
  ];
  if (b.repos.length > 0) {
    lines.push(
      "",
      table(
        b.repos,
        [
          { header: "REPO", value: (r) => r.repo },
          { header: "AWAITING", value: (r) => String(r.awaiting_review) },
          { header: "LIMIT", value: (r) => limit(r.max_awaiting_review) },
          { header: "", value: (r) => (r.holding ? "HOLDING" : "") },
        ],
        width,
      ),
    );
  }
  lines.push(...windowLines(s.windows));
  lines.push(
    ...budgetLines(s.budget),
    `fallback price ${usd(s.fallback_run_usd)} a run (when neither the verdict nor a price table says what it cost); phone raise ${usd(s.raise_usd)}`,
  );
  return lines.join("\n");
}

/** One line per run window, open or closed and until when (UTC). */
export function windowLines(w: SettingsView["windows"] | undefined): string[] {
  if (!w) return [];
  const hm = (iso: string) => iso.slice(0, 16).replace("T", " ");
  const line = (who: string, x: NonNullable<SettingsView["windows"]["fleet"]>) =>
    `${who} window ${x.window} ${x.zone}${x.fit ? " (runs must fit)" : ""}: ${
      x.open
        ? `open until ${hm(x.next_change)} UTC`
        : `CLOSED until ${hm(x.next_change)} UTC (outside_window)`
    }`;
  return [
    ...(w.fleet ? [line("fleet", w.fleet)] : []),
    ...w.providers.map((p) => line(`provider ${p.provider}`, p)),
  ];
}

/** The status line for `mtor status`: empty unless the review backlog holds claims. */
export function reviewBacklogLine(b: SettingsView["review_backlog"] | undefined): string | null {
  if (!b) return null;
  const held = b.repos
    .filter((r) => r.holding)
    .map((r) => `${r.repo} ${r.awaiting_review}/${r.max_awaiting_review}`);
  const head = `review backlog ${b.awaiting_review}/${limit(b.max_awaiting_review)}`;
  if (b.holding) return `${head}: HOLDING new claims (review_backlog) until reviews bring it down`;
  if (held.length > 0) return `${head}; holding repo ${held.join(", ")} (review_backlog)`;
  return head;
}

/** A dollar amount from the command line; the control plane says what is out of range. */
export function dollars(flag: string, value: string): number {
  const n = Number(value.replace(/^\$/, ""));
  if (value.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`${flag} must be a number of US dollars, e.g. 12.50 (got ${value})`);
  return n;
}

export function settingsCommand(io: Io) {
  return apiCommand("settings", "night controls: the review backlog limit, fleet-wide or per repo")
    .option("--max-awaiting-review <n>", "hold new claims while this many specs await review (0 = off)")
    .option("--repo <name>", "set the limit for this repo instead of the fleet")
    .option("--clear", "with --repo: drop the repo's own limit (the fleet's applies)")
    .option("--window <hh:mm-hh:mm>", 'run window, e.g. "22:00-06:00"; "none" removes it')
    .option("--zone <iana>", "the window's time zone, e.g. Europe/Berlin (default UTC)")
    .option("--fit", "start no run whose timeout would end after the window closes")
    .option("--provider <name>", "set the window or budget for this provider instead of the fleet")
    .option("--budget <usd>", 'spend budget per night in USD; "none" removes it')
    .option("--fallback-price <usd>", "what a run counts when nothing says what it cost")
    .option("--raise <usd>", 'what the phone\'s "raise" action adds to a budget')
    .action(
      apiAction(
        io,
        async (
          ctx,
          opts: {
            maxAwaitingReview?: string;
            repo?: string;
            clear?: boolean;
            window?: string;
            zone?: string;
            fit?: boolean;
            provider?: string;
            budget?: string;
            fallbackPrice?: string;
            raise?: string;
          },
        ) => {
          let res: SettingsView;
          if (opts.budget !== undefined || opts.fallbackPrice !== undefined || opts.raise !== undefined) {
            if (opts.provider && (opts.fallbackPrice !== undefined || opts.raise !== undefined))
              throw new UsageError("--fallback-price and --raise are fleet-wide; drop --provider");
            const body = {
              ...(opts.budget !== undefined
                ? { budget_usd: opts.budget === "none" ? null : dollars("--budget", opts.budget) }
                : {}),
              ...(opts.fallbackPrice !== undefined
                ? { fallback_run_usd: dollars("--fallback-price", opts.fallbackPrice) }
                : {}),
              ...(opts.raise !== undefined ? { raise_usd: dollars("--raise", opts.raise) } : {}),
            };
            if (opts.provider)
              await ctx.client.put(`/v1/providers/${encodeURIComponent(opts.provider)}`, body);
            else await ctx.client.put("/v1/settings", body);
            res = await ctx.client.get<SettingsView>("/v1/settings");
          } else if (opts.window !== undefined || opts.zone !== undefined || opts.fit) {
            const body = {
              ...(opts.window !== undefined ? { window: opts.window === "none" ? null : opts.window } : {}),
              ...(opts.zone !== undefined ? { window_zone: opts.zone } : {}),
              ...(opts.fit ? { window_fit: true } : {}),
            };
            if (opts.provider)
              await ctx.client.put(`/v1/providers/${encodeURIComponent(opts.provider)}`, body);
            else await ctx.client.put("/v1/settings", body);
            res = await ctx.client.get<SettingsView>("/v1/settings");
          } else if (opts.maxAwaitingReview === undefined && !opts.clear) {
            if (opts.repo) throw new UsageError("--repo needs --max-awaiting-review N or --clear");
            res = await ctx.client.get<SettingsView>("/v1/settings");
          } else {
            let n: number | null = null;
            if (!opts.clear) {
              n = Number(opts.maxAwaitingReview);
              if (!/^\d+$/.test(opts.maxAwaitingReview ?? ""))
                throw new UsageError(
                  `--max-awaiting-review must be a whole number, 0 for off (got ${opts.maxAwaitingReview})`,
                );
            } else if (!opts.repo) {
              throw new UsageError(
                "--clear needs --repo NAME (the fleet's limit is set with --max-awaiting-review)",
              );
            }
            const body = opts.repo
              ? { repos: { [opts.repo]: { max_awaiting_review: n } } }
              : { max_awaiting_review: n };
            res = await ctx.client.put<SettingsView>("/v1/settings", body);
          }
          if (ctx.json) return ctx.printJson(res);
          ctx.io.out(renderSettings(res, ctx.io.width));
        },
      ),
    );
}
