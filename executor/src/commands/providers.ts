// `mtor providers`: slots, breaker, freeze, budget and run window of each provider; `providers
// set NAME --slots N` (or --budget, --price, --window) changes one, `providers delete NAME`
// forgets one.
import type { ProviderUpdate, ProviderView } from "@mtor/schema";
import { usd } from "@mtor/schema/format";
import { seg, UsageError } from "../http/client";
import { ago, table } from "../http/output";
import { apiAction, apiCommand, intOption } from "./api-command";
import type { Io } from "./io";
import { dollars } from "./settings";

/** Accepts `{providers: [...]}` or a bare array, as lists come either way. */
export function listOf<T>(value: unknown, key: string): T[] {
  if (Array.isArray(value)) return value as T[];
  const inner = (value as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(inner) ? (inner as T[]) : [];
}

export function renderProviders(list: ProviderView[], width: number): string {
  if (list.length === 0) return "no providers yet (an executor that serves one creates it)";
  return table(
    list,
    [
      { header: "PROVIDER", value: (p) => p.name },
      {
        header: "SLOTS",
        value: (p) =>
          `${p.in_use}/${p.effective_slots}${p.effective_slots !== p.slots ? ` (of ${p.slots})` : ""}`,
      },
      { header: "QUEUED", value: (p) => String(p.queued ?? 0), right: true },
      {
        header: "BREAKER",
        value: (p) =>
          p.breaker.state === "open" ? `open until ${ago(p.breaker.open_until)}` : p.breaker.state,
      },
      {
        header: "STATE",
        value: (p) =>
          [
            p.enabled ? "" : "disabled",
            p.frozen ? "frozen" : "",
            p.cooling_until ? `cooling ${ago(p.cooling_until)}` : "",
          ]
            .filter(Boolean)
            .join(" ") || "ok",
      },
      { header: "MODEL", value: (p) => [p.harness, p.model].filter(Boolean).join(" ") || "-", flex: true },
      {
        header: "BUDGET",
        value: (p) =>
          [
            p.budget_usd ? `${usd(p.budget_usd)}/night` : "",
            p.price ? `$${p.price.input_per_mtok}/$${p.price.output_per_mtok} per Mtok` : "",
          ]
            .filter(Boolean)
            .join(" ") || "-",
      },
      {
        header: "WINDOW",
        value: (p) =>
          p.window
            ? `${p.window.window} ${p.window.zone}${p.window.fit ? " fit" : ""} ${p.window.open ? "open" : "closed"}`
            : "-",
      },
      { header: "RECENT", value: (p) => (p.recent_outcomes ?? []).join(" "), flex: true },
    ],
    width,
  );
}

interface SetOptions {
  slots?: string;
  enable?: boolean;
  disable?: boolean;
  model?: string;
  harness?: string;
  budget?: string;
  price?: string;
  window?: string;
  zone?: string;
  fit?: boolean;
}

/** `--price IN/OUT` in USD per million tokens ("0.6/2.2"), or "none". */
function priceOption(value: string): ProviderUpdate["price"] {
  if (value === "none") return null;
  const m = /^\$?([0-9.]+)\/\$?([0-9.]+)$/.exec(value.trim());
  if (!m)
    throw new UsageError(
      `--price must be INPUT/OUTPUT in USD per million tokens, e.g. 0.6/2.2, or none (got ${value})`,
    );
  return { input_per_mtok: Number(m[1]), output_per_mtok: Number(m[2]) };
}

export function providersCommand(io: Io) {
  const cmd = apiCommand("providers", "list providers: slots in use, breaker, freeze").action(
    apiAction(io, async (ctx) => {
      const res = await ctx.client.get("/v1/providers");
      if (ctx.json) return ctx.printJson(res);
      ctx.io.out(renderProviders(listOf<ProviderView>(res, "providers"), ctx.io.width));
    }),
  );
  cmd.addCommand(
    apiCommand("set", "change a provider's slots, model, harness or switch it on or off")
      .argument("<name>", "provider name")
      .option("--slots <n>", "concurrent runs allowed")
      .option("--enable", "let it take work")
      .option("--disable", "take no work")
      .option("--model <model>", "default model for its specs")
      .option("--harness <harness>", "default harness for its specs")
      .option("--budget <usd>", 'spend budget per night in USD; "none" removes it')
      .option("--price <in/out>", 'USD per million input/output tokens, e.g. 0.6/2.2; "none" removes it')
      .option("--window <hh:mm-hh:mm>", 'run window, e.g. "22:00-06:00"; "none" removes it')
      .option("--zone <iana>", "the window's time zone, e.g. Europe/Berlin (default UTC)")
      .option("--fit", "start no run whose timeout would end after the window closes")
      .option("--no-fit", "start runs whatever their timeout")
      .action(
        apiAction(io, async (ctx, name: string, opts: SetOptions) => {
          if (opts.enable && opts.disable)
            throw new UsageError("--enable and --disable contradict each other");
          const body: ProviderUpdate = {};
          const slots = intOption("--slots", opts.slots, 1);
          if (slots !== undefined) body.slots = slots;
          if (opts.enable) body.enabled = true;
          if (opts.disable) body.enabled = false;
          if (opts.model) body.model = opts.model;
          if (opts.harness) body.harness = opts.harness;
          if (opts.budget !== undefined)
            body.budget_usd = opts.budget === "none" ? null : dollars("--budget", opts.budget);
          if (opts.price !== undefined) body.price = priceOption(opts.price);
          if (opts.window !== undefined) body.window = opts.window === "none" ? null : opts.window;
          if (opts.zone !== undefined) body.window_zone = opts.zone;
          if (opts.fit !== undefined) body.window_fit = opts.fit;
          if (Object.keys(body).length === 0)
            throw new UsageError(
              "nothing to set: give --slots, --enable, --disable, --model, --harness, --budget, --price, --window, --zone or --fit",
            );
          const res = await ctx.client.put<ProviderView | { provider: ProviderView }>(
            `/v1/providers/${seg(name)}`,
            body,
          );
          if (ctx.json) return ctx.printJson(res);
          const view = (res as { provider?: ProviderView }).provider ?? (res as ProviderView);
          ctx.io.out(view?.name ? renderProviders([view], ctx.io.width) : `provider ${name} updated`);
        }),
      ),
  );
  cmd.addCommand(
    apiCommand("delete", "forget a provider")
      .argument("<name>", "provider name")
      .action(
        apiAction(io, async (ctx, name: string) => {
          const res = await ctx.client.delete(`/v1/providers/${seg(name)}`);
          if (ctx.json) return ctx.printJson(res ?? { deleted: name });
          ctx.io.out(`provider ${name} deleted`);
        }),
      ),
  );
  return cmd;
}
