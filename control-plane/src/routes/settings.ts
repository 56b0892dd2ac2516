// /v1/settings: the fleet's night controls (the review backlog limits, fleet-wide and per repo).
import { FleetSettingsUpdate } from "@mtor/schema/wire";
import { Hono } from "hono";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { jsonBody } from "../body";
import { unwrap } from "../errors";
import { settingsText, wantsText } from "../text";

export const settingsRoutes = new Hono<AppEnv>()
  .get("/", operator("read"), async (c) => {
    const settings = unwrap(await fleetOf(c.env).settings());
    return wantsText(c) ? c.text(settingsText(settings)) : c.json(settings);
  })
  .put("/", operator("admin"), async (c) => {
    const update = await jsonBody(c, FleetSettingsUpdate);
    const settings = unwrap(await fleetOf(c.env).putSettings(update));
    return wantsText(c) ? c.text(settingsText(settings)) : c.json(settings);
  });
