// /v1/gates: each gate's action and retry switch, sent to executors with every claim.
import { GateName } from "@mtor/schema/gates";
import { GateUpdate } from "@mtor/schema/wire";
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { jsonBody } from "../body";
import { unwrap } from "../errors";
import { gatesText, wantsText } from "../text";
import { valid } from "./validation";

export const gateRoutes = new Hono<AppEnv>()
  .get("/", operator("read"), async (c) => {
    const gates = unwrap(await fleetOf(c.env).gates());
    return wantsText(c) ? c.text(gatesText(gates)) : c.json({ gates });
  })
  .put("/:name", operator("admin"), valid("param", z.object({ name: GateName })), async (c) => {
    const body = await jsonBody(c, GateUpdate.strict());
    const name = c.req.valid("param").name;
    return c.json({ name, ...unwrap(await fleetOf(c.env).setGate(name, body)) });
  });
