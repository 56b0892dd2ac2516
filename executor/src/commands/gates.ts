// `mtor gates`: each gate's action and retry switch; `mtor gates NAME reject|review|off
// [--retry|--no-retry]` changes one.
import { GATE_NAMES, GateAction, type GateSetting } from "@mtor/schema";
import { seg, UsageError } from "../http/client";
import { table } from "../http/output";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";

type GateRow = { name: string } & GateSetting;

/** Accepts `{gates: {name: setting}}`, `{name: setting}` or `[{name, action, retry}]`. */
export function gateRows(value: unknown): GateRow[] {
  const v = (value as { gates?: unknown })?.gates ?? value;
  if (Array.isArray(v)) return v as GateRow[];
  if (v && typeof v === "object") {
    return Object.entries(v as Record<string, GateSetting>).map(([name, s]) => ({ name, ...s }));
  }
  return [];
}

export function gatesCommand(io: Io) {
  return apiCommand("gates", "list gates, or set one: gates NAME reject|review|off")
    .argument("[name]", `a gate (${GATE_NAMES.join(", ")})`)
    .argument("[action]", "reject | review | off")
    .option("--retry", "retry automatically after this gate rejects")
    .option("--no-retry", "never retry after this gate rejects")
    .action(
      apiAction(
        io,
        async (ctx, name: string | undefined, action: string | undefined, opts: { retry?: boolean }) => {
          if (name === undefined) {
            const res = await ctx.client.get("/v1/gates");
            if (ctx.json) return ctx.printJson(res);
            ctx.io.out(
              table(gateRows(res), [
                { header: "GATE", value: (g) => g.name },
                { header: "ACTION", value: (g) => g.action },
                { header: "RETRY", value: (g) => (g.retry ? "yes" : "no") },
              ]),
            );
            return;
          }
          if (!(GATE_NAMES as readonly string[]).includes(name)) {
            throw new UsageError(`unknown gate ${JSON.stringify(name)}; one of ${GATE_NAMES.join(", ")}`);
          }
          const parsed = GateAction.safeParse(action);
          if (!parsed.success) throw new UsageError(`gates ${name}: give an action, reject, review or off`);
          const body: { action: string; retry?: boolean } = { action: parsed.data };
          if (opts.retry !== undefined) body.retry = opts.retry;
          const res = await ctx.client.put(`/v1/gates/${seg(name)}`, body);
          if (ctx.json) return ctx.printJson(res);
          const row = gateRows(res).find((g) => g.name === name) ?? (res as GateSetting | undefined);
          const retry = row && typeof row.retry === "boolean" ? `, retry ${row.retry ? "on" : "off"}` : "";
          ctx.io.out(`gate ${name}: ${row?.action ?? parsed.data}${retry}`);
        },
      ),
    );
}
