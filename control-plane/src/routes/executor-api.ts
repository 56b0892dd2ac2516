// /v1/executor: the signed executor protocol: claim, heartbeat, verdict, each one Fleet call
// after the Worker verified the signature.
import { ClaimRequest, HeartbeatRequest, VerdictRequest } from "@mtor/schema/wire";
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { signedExecutor } from "../auth/executor";
import { jsonBody } from "../body";
import { unwrap } from "../errors";
import { valid } from "./validation";

const RunId = z.object({ id: z.string().min(1).max(100) });

export const executorApi = new Hono<AppEnv>()
  .post("/claim", signedExecutor, async (c) => {
    const body = await jsonBody(c, ClaimRequest);
    return c.json(unwrap(await fleetOf(c.env).claim(body, c.get("signer"))));
  })
  .post("/runs/:id/heartbeat", signedExecutor, valid("param", RunId), async (c) => {
    const body = await jsonBody(c, HeartbeatRequest);
    return c.json(unwrap(await fleetOf(c.env).heartbeat(c.req.valid("param").id, body, c.get("signer"))));
  })
  .post("/runs/:id/verdict", signedExecutor, valid("param", RunId), async (c) => {
    const body = await jsonBody(c, VerdictRequest);
    return c.json(unwrap(await fleetOf(c.env).verdict(c.req.valid("param").id, body, c.get("signer"))));
  });
