// /v1/webhooks and /v1/deliveries: endpoints (admin to change them; the secret is shown once, at
// creation) and each endpoint's delivery log with redelivery.
import { WebhookCreate } from "@mtor/schema/wire";
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { jsonBody } from "../body";
import { unwrap } from "../errors";
import { table, wantsText } from "../text";
import type { EndpointView } from "../webhooks/endpoints";
import { valid } from "./validation";

const WebhookId = z.object({ id: z.string().regex(/^wh_[a-z0-9]{1,40}$/, "must be a webhook id (wh_…)") });
const DeliveryId = z.object({
  id: z.string().regex(/^msg_[a-z0-9]{1,40}$/, "must be a delivery id (msg_…)"),
});
const Page = z.object({
  count: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(100).optional(),
  format: z.string().optional(),
});

const CreateBody = WebhookCreate.extend({
  /** Where phone-action links point; defaults to the origin this request came to. */
  links_base: z.string().url().max(500).optional(),
}).strict();

/** Slack and Discord webhook URLs are credentials: people with the read role see only the host. */
const redact = (e: EndpointView): EndpointView => {
  const u = new URL(e.url);
  return { ...e, url: `${u.protocol}//${u.host}/…` };
};

export const webhookRoutes = new Hono<AppEnv>()
  .get("/webhooks", operator("read"), async (c) => {
    const list = unwrap(await fleetOf(c.env).listWebhooks());
    const shown = c.get("operator").role === "admin" ? list : list.map(redact);
    if (wantsText(c)) {
      return c.text(
        table(
          ["ID", "FORMAT", "ENABLED", "EVENTS", "URL"],
          shown.map((e) => [
            e.id,
            e.format,
            e.enabled ? "yes" : `no (${e.disabled_reason ?? "disabled"})`,
            e.events.join(","),
            e.url,
          ]),
        ),
      );
    }
    return c.json({ webhooks: shown });
  })
  .post("/webhooks", operator("admin"), async (c) => {
    const body = await jsonBody(c, CreateBody);
    const created = unwrap(
      await fleetOf(c.env).createWebhook({
        url: body.url,
        events: body.events,
        format: body.format,
        secret: body.secret,
        links_base: body.links_base ?? (c.env.PUBLIC_URL || new URL(c.req.url).origin),
        created_by: c.get("operator").name,
      }),
    );
    return c.json(created, 201);
  })
  .delete("/webhooks/:id", operator("admin"), valid("param", WebhookId), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).deleteWebhook(c.req.valid("param").id)));
  })
  .get(
    "/webhooks/:id/deliveries",
    operator("read"),
    valid("param", WebhookId),
    valid("query", Page),
    async (c) => {
      const q = c.req.valid("query");
      const page = unwrap(
        await fleetOf(c.env).webhookDeliveries(c.req.valid("param").id, q.count, q.cursor ?? null),
      );
      if (wantsText(c)) {
        return c.text(
          table(
            ["DELIVERY", "EVENT", "STATUS", "TRIES", "LAST", "NEXT", "CREATED"],
            page.deliveries.map((d) => [
              d.id,
              d.event,
              d.status,
              d.attempts,
              d.last_status ?? d.last_error,
              d.next_attempt_at?.slice(5, 16).replace("T", " "),
              d.created_at.slice(5, 16).replace("T", " "),
            ]),
          ),
        );
      }
      return c.json(page);
    },
  )
  .post("/webhooks/:id/test", operator("admin"), valid("param", WebhookId), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).testWebhook(c.req.valid("param").id)));
  })
  .post("/deliveries/:id/redeliver", operator("admin"), valid("param", DeliveryId), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).redeliver(c.req.valid("param").id)), 202);
  });
