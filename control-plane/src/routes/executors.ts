// /v1/executors: the operator's view of executors, their load and runs, and drain.
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { unwrap } from "../errors";
import { executorsText, wantsText } from "../text";
import { valid } from "./validation";

const Id = z.object({ id: z.string().min(1).max(100) });

export const executorRoutes = new Hono<AppEnv>()
  .get("/", operator("read"), async (c) => {
    const list = unwrap(await fleetOf(c.env).listExecutors());
    return wantsText(c) ? c.text(executorsText(list)) : c.json({ executors: list });
  })
  .post("/:id/drain", operator("admin"), valid("param", Id), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).drain(c.req.valid("param").id, true)));
  })
  .post("/:id/undrain", operator("admin"), valid("param", Id), async (c) => {
    return c.json(unwrap(await fleetOf(c.env).drain(c.req.valid("param").id, false)));
  });
