// Text for curl and phones on every route: a JSON answer (errors included) is rendered as terse
// text when the request asks for it with `Accept: text/plain` or `?format=text`. Routes with
// their own text tables answer text themselves; this covers the rest.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";
import { table, wantsText } from "./text";

/** Paths that always answer JSON: the executor protocol, MCP and the API description. */
const JSON_ONLY = /^\/(v1\/executor\/|mcp(\/|$)|v1\/openapi\.json$)/;

export const textAnswers = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (JSON_ONLY.test(c.req.path) || !wantsText(c)) return;
  if (!(c.res.headers.get("content-type") ?? "").startsWith("application/json")) return;
  let value: unknown;
  try {
    value = await c.res.clone().json();
  } catch {
    return;
  }
  const headers = new Headers(c.res.headers);
  headers.set("content-type", "text/plain; charset=UTF-8");
  headers.delete("content-length");
  c.res = new Response(jsonText(value), { status: c.res.status, headers });
});

const scalar = (v: unknown): string =>
  v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v);
const isPlain = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

/** Any JSON answer as text: `key: value` lines, nested objects indented, lists of objects as tables. */
export function jsonText(value: unknown): string {
  if (isPlain(value) && isPlain(value.error) && typeof value.error.code === "string") {
    const e = value.error as { code: string; message?: unknown; details?: unknown };
    const lines = [`error ${e.code}: ${scalar(e.message)}`];
    const errors = isPlain(e.details) ? e.details.errors : undefined;
    if (Array.isArray(errors)) {
      for (const f of errors) if (isPlain(f)) lines.push(`  ${scalar(f.field)}: ${scalar(f.message)}`);
    } else if (e.details !== undefined) {
      lines.push(...render(e.details, "  "));
    }
    return `${lines.join("\n")}\n`;
  }
  return `${render(value, "").join("\n")}\n`;
}

function render(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) return list(value, indent);
  if (!isPlain(value)) return [`${indent}${scalar(value)}`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (isPlain(v)) out.push(`${indent}${k}:`, ...render(v, `${indent}  `));
    else if (Array.isArray(v) && v.some(isPlain)) out.push(`${indent}${k}:`, ...list(v, `${indent}  `));
    else if (Array.isArray(v)) out.push(`${indent}${k}: ${v.length ? v.map(scalar).join(", ") : "-"}`);
    else out.push(`${indent}${k}: ${scalar(v)}`);
  }
  return out;
}

function list(items: unknown[], indent: string): string[] {
  if (items.length === 0) return [`${indent}(none)`];
  if (!items.every(isPlain)) return items.map((v) => `${indent}${scalar(v)}`);
  const keys = [...new Set(items.flatMap((o) => Object.keys(o)))];
  const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  return table(
    keys.map((k) => k.toUpperCase()),
    items.map((o) => keys.map((k) => clip(scalar(o[k])))),
  )
    .trimEnd()
    .split("\n")
    .map((l) => `${indent}${l}`);
}
