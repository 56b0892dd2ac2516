// Shared by kill, retry, approve and decline: post an action on one spec or several and say where
// each landed.
import { ApiRefused, seg, Unreachable } from "../http/client";
import { type ApiContext, reportFailure } from "./api-command";

async function post(ctx: ApiContext, id: string, action: string, body: unknown) {
  return ctx.client.post<Record<string, unknown> | undefined>(`/v1/specs/${seg(id)}/${action}`, body);
}

function say(ctx: ApiContext, id: string, verb: string, res: Record<string, unknown> | undefined) {
  const status = typeof res?.status === "string" ? res.status : undefined;
  ctx.io.out(`${id}  ${verb}${status && status !== verb ? `, now ${status}` : ""}`);
}

export async function specAction(ctx: ApiContext, id: string, action: string, body: unknown, verb: string) {
  const res = await post(ctx, id, action, body);
  if (ctx.json) return ctx.printJson(res ?? { id });
  say(ctx, id, verb, res);
}

/**
 * The action on each spec in turn. One id behaves as `specAction`. With several, a refused one
 * (a 409 for its status, an unknown id) is reported on stderr and the rest still go; the exit
 * code is 1 if any was refused. What would refuse every one stops the whole command at once: an
 * unreachable control plane (exit 3), a token it does not take or whose role may not act (401,
 * 403).
 * `--json` prints the answers of those that went through as one array.
 */
export async function specActions(
  ctx: ApiContext,
  ids: readonly string[],
  action: string,
  body: unknown,
  verb: string,
) {
  if (ids.length === 1) return specAction(ctx, ids[0] as string, action, body, verb);
  const done: unknown[] = [];
  for (const id of ids) {
    try {
      const res = await post(ctx, id, action, body);
      if (ctx.json) done.push(res ?? { id });
      else say(ctx, id, verb, res);
    } catch (err) {
      if (
        err instanceof Unreachable ||
        (err instanceof ApiRefused && (err.status === 401 || err.status === 403))
      )
        throw err;
      ctx.io.exitCode = Math.max(ctx.io.exitCode, reportFailure(ctx.io, err, ctx.json));
    }
  }
  if (ctx.json) ctx.printJson(done);
}
