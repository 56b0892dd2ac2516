// Executor auth: every request carries an RFC 9421 signature. The Worker checks it
// statelessly (HMAC over EXECUTOR_KEYS); the nonce is stored by the Fleet in the same
// transaction as the operation, so one request is one Durable Object call.
import { parseExecutorKeys, verifyRequest } from "@mtor/schema/signing";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { rawBody } from "../body";
import { ApiError } from "../errors";

export const signedExecutor = createMiddleware<AppEnv>(async (c, next) => {
  const body = await rawBody(c);
  const verified = await verifyRequest({
    method: c.req.method,
    url: c.req.url,
    headers: c.req.raw.headers,
    body,
    keys: parseExecutorKeys(c.env.EXECUTOR_KEYS),
    now: c.get("signatureTimeInFleet") ? null : Math.floor(Date.now() / 1000),
  });
  if (!verified.ok) throw new ApiError(401, verified.code, verified.message);
  c.set("signer", { keyId: verified.keyid, nonce: verified.nonce, created: verified.created });
  await next();
});
