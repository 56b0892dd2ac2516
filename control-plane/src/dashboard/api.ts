// The dashboard acts only through the operator API, called in-process with the session's token,
// so every page and button gets the same validation and role checks as curl and the CLI.
import type { Context } from "hono";

export type ApiFetch = (
  req: Request,
  env: unknown,
  ctx: ExecutionContext<unknown> | undefined,
) => Response | Promise<Response>;

export type ApiAnswer<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: { code: string; message: string; details?: unknown } };

export async function callApi<T>(
  c: Context,
  api: ApiFetch,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  accept = "application/json",
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept };
  if (body !== undefined) headers["content-type"] = "application/json";
  const req = new Request(new URL(path, c.req.url), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let executionCtx: ExecutionContext<unknown> | undefined;
  try {
    executionCtx = c.executionCtx as ExecutionContext<unknown>;
  } catch {
    executionCtx = undefined;
  }
  const res = await api(req, c.env, executionCtx);
  const text = await res.text();
  if (res.ok) {
    if (accept !== "application/json") return { ok: true, status: res.status, data: text as T };
    return { ok: true, status: res.status, data: (text ? JSON.parse(text) : undefined) as T };
  }
  try {
    const env = JSON.parse(text) as { error?: { code: string; message: string; details?: unknown } };
    if (env.error) return { ok: false, status: res.status, error: env.error };
  } catch {
    // not an error envelope
  }
  return {
    ok: false,
    status: res.status,
    error: { code: `http_${res.status}`, message: res.statusText || "request failed" },
  };
}
