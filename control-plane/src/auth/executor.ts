// Executor auth: every request carries an RFC 9421 signature, verified by the
// Fleet against EXECUTOR_KEYS, its clock and its nonce store.
import { createMiddleware } from "hono/factory";
import { type AppEnv, fleetOf } from "../app-env";
import { rawBody } from "../body";
import { unwrap } from "../errors";

const SIGNED_HEADERS = ["content-digest", "signature-input", "signature"];

export const signedExecutor = createMiddleware<AppEnv>(async (c, next) => {
  const body = await rawBody(c);
  const headers: Record<string, string> = {};
  for (const name of SIGNED_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  const copy = new Uint8Array(body.byteLength);
  copy.set(body);
  const { keyId } = unwrap(
    await fleetOf(c.env).authenticate({ method: c.req.method, url: c.req.url, headers, body: copy.buffer }),
  );
  c.set("keyId", keyId);
  await next();
});
