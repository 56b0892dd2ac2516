// Shared by kill, retry, approve and decline: post an action on a spec and say where it landed.
import { seg } from "../http/client";
import type { ApiContext } from "./api-command";

export async function specAction(ctx: ApiContext, id: string, action: string, body: unknown, verb: string) {
  const res = await ctx.client.post<Record<string, unknown> | undefined>(
    `/v1/specs/${seg(id)}/${action}`,
    body,
  );
  if (ctx.json) return ctx.printJson(res ?? { id });
  const status = typeof res?.status === "string" ? res.status : undefined;
  ctx.io.out(`${id}  ${verb}${status && status !== verb ? `, now ${status}` : ""}`);
}
