// /v1/status and the global freeze switch.
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { jsonBody } from "../body";
import { unwrap } from "../errors";
import { statusText, wantsText } from "../text";

export const fleetRoutes = new Hono<AppEnv>()
  .get("/status", operator("read"), async (c) => {
    const status = unwrap(await fleetOf(c.env).status());
    return wantsText(c) ? c.text(statusText(status)) : c.json(status);
  })
  .post("/freeze", operator("admin"), async (c) => {
    await jsonBody(c, z.object({}).loose());
    return c.json(unwrap(await fleetOf(c.env).freeze()));
  })
  .post("/thaw", operator("admin"), async (c) => {
    await jsonBody(c, z.object({}).loose());
    return c.json(unwrap(await fleetOf(c.env).thaw()));
  });
