// `mtor webhooks`: the webhook endpoints; `webhooks test ID` sends a sample notification in the
// endpoint's format now and says whether it arrived, or what failed.
import { seg } from "../http/client";
import { table } from "../http/output";
import { apiAction, apiCommand } from "./api-command";
import type { Io } from "./io";
import { listOf } from "./providers";

interface EndpointRow {
  id: string;
  url: string;
  format: string;
  events: string[];
  enabled: boolean;
}

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
}

export function webhooksCommand(io: Io) {
  const cmd = apiCommand("webhooks", "list webhook endpoints").action(
    apiAction(io, async (ctx) => {
      const res = await ctx.client.get("/v1/webhooks");
      if (ctx.json) return ctx.printJson(res);
      const list = listOf<EndpointRow>(res, "webhooks");
      if (list.length === 0) return ctx.io.out("no webhooks");
      ctx.io.out(
        table(
          list,
          [
            { header: "ID", value: (w) => w.id },
            { header: "FORMAT", value: (w) => w.format },
            { header: "STATE", value: (w) => (w.enabled ? "enabled" : "disabled") },
            { header: "EVENTS", value: (w) => w.events.join(","), flex: true },
            // The URL may carry a credential (ntfy's ?auth=): its host and path only.
            { header: "URL", value: (w) => w.url.split("?")[0], flex: true },
          ],
          ctx.io.width,
        ),
      );
    }),
  );
  cmd.addCommand(
    apiCommand("test", "send a sample notification to one endpoint now, in its format")
      .argument("<id>", "webhook id (wh_…)")
      .action(
        apiAction(io, async (ctx, id: string) => {
          const d = await ctx.client.post<DeliveryRow>(`/v1/webhooks/${seg(id)}/test`, {});
          if (ctx.json) return ctx.printJson(d);
          if (d.status === "delivered") {
            ctx.io.out(`${id}: test notification delivered (${d.last_status}), delivery ${d.id}`);
            return;
          }
          ctx.io.out(
            `${id}: test notification not delivered: ${d.last_error ?? d.status} (delivery ${d.id})`,
          );
          if (d.status === "pending")
            ctx.io.out(`retried like any delivery; next attempt ${d.next_attempt_at}`);
          ctx.io.exitCode = 1;
        }),
      ),
  );
  return cmd;
}
