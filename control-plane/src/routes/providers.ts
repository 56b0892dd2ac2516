// /v1/providers: slots, breaker, cooling and the per-provider freeze.
import { ProviderUpdate } from "@mtor/schema/wire";
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { jsonBody } from "../body";
import { unwrap } from "../errors";
import { providersText, wantsText } from "../text";
import { valid } from "./validation";

export const ProviderName = z.object({
  name: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'"),
});

export const providerRoutes = new Hono<AppEnv>()
  .get("/", operator("read"), async (c) => {
    const list = unwrap(await fleetOf(c.env).listProviders());
    return wantsText(c) ? c.text(providersText(list)) : c.json({ providers: list });
  })
  .put("/:name", operator("admin"), valid("param", ProviderName), async (c) => {
    const body = await jsonBody(c, ProviderUpdate.strict());
    return c.json(unwrap(await fleetOf(c.env).putProvider(c.req.valid("param").name, body)));
  })
  .delete("/:name", operator("admin"), valid("param", ProviderName), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).deleteProvider(c.req.valid("param").name)));
  })
  .post("/:name/freeze", operator("admin"), valid("param", ProviderName), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).freezeProvider(c.req.valid("param").name, true)));
  })
  .post("/:name/thaw", operator("admin"), valid("param", ProviderName), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).freezeProvider(c.req.valid("param").name, false)));
  });
