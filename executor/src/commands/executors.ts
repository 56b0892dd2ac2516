// `mtor executors`: each executor's load and runs; `executors drain ID` lets one finish its runs
// and take no new ones, `executors undrain ID` puts it back to work.
import type { ExecutorView } from "@mtor/schema";
import { seg } from "../http/client";
import { ago, table } from "../http/output";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { listOf } from "./providers";

export function renderExecutors(list: ExecutorView[], width: number): string {
  if (list.length === 0) return "no executors have checked in";
  return table(
    list,
    [
      { header: "EXECUTOR", value: (e) => e.id },
      { header: "HOST", value: (e) => `${e.host} ${e.arch}`, flex: true },
      { header: "RUNS", value: (e) => `${e.runs?.length ?? 0}/${e.capacity}` },
      { header: "CPU", value: (e) => (e.load ? e.load.cpu.toFixed(2) : "-"), right: true },
      {
        header: "MEM FREE",
        value: (e) => (e.load ? `${Math.round(e.load.mem_free * 100)}%` : "-"),
        right: true,
      },
      { header: "STATE", value: (e) => (e.draining ? "draining" : "active") },
      { header: "SEEN", value: (e) => ago(e.last_seen_at) },
      { header: "PROVIDERS", value: (e) => (e.providers ?? []).join(","), flex: true },
    ],
    width,
  );
}

function drainCommand(io: Io, verb: "drain" | "undrain") {
  return apiCommand(
    verb,
    verb === "drain"
      ? "let an executor finish its runs and take no new ones"
      : "let a drained executor take work again",
  )
    .argument("<id>", "executor id")
    .action(
      apiAction(io, async (ctx, id: string) => {
        const res = await ctx.client.post(`/v1/executors/${seg(id)}/${verb}`, {});
        if (ctx.json) return ctx.printJson(res ?? { id, draining: verb === "drain" });
        ctx.io.out(
          verb === "drain"
            ? `executor ${id} draining: finishes its runs, takes no new ones`
            : `executor ${id} active again`,
        );
      }),
    );
}

export function executorsCommand(io: Io) {
  const cmd = apiCommand("executors", "list executors with their load and runs").action(
    apiAction(io, async (ctx) => {
      const res = await ctx.client.get("/v1/executors");
      if (ctx.json) return ctx.printJson(res);
      ctx.io.out(renderExecutors(listOf<ExecutorView>(res, "executors"), ctx.io.width));
    }),
  );
  cmd.addCommand(drainCommand(io, "drain"));
  cmd.addCommand(drainCommand(io, "undrain"));
  return cmd;
}
