// /v1/report?since=ISO[&until=ISO]: the night's report as JSON, as the morning text summary, or
// as the night's timeline picture in SVG.
import { renderTimeline } from "@mtor/schema/timeline";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { ApiError, unwrap } from "../errors";
import { reportText } from "../report/text";
import { wantsText } from "../text";
import { valid } from "./validation";

const isoTime = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 time, e.g. 2026-11-20T22:00:00Z");

/**
 * The timeline picture is answered for `?format=svg`, or for an Accept that names
 * image/svg+xml (as a browser's <img> does, and curl -H can) without preferring JSON.
 */
function wantsSvg(c: Context<AppEnv>): boolean {
  const format = c.req.query("format");
  if (format) return format === "svg";
  const accept = c.req.header("accept") ?? "";
  return /\bimage\/svg\+xml\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}

export const ReportQuery = z.object({
  since: isoTime.optional(),
  until: isoTime.optional(),
  format: z.string().optional(),
});

export const reportRoutes = new Hono<AppEnv>().get(
  "/",
  operator("read"),
  valid("query", ReportQuery),
  async (c) => {
    const q = c.req.valid("query");
    const fleet = fleetOf(c.env);
    const now = await fleet.now();
    const until = q.until ? Date.parse(q.until) : now;
    const since = q.since ? Date.parse(q.since) : until - 24 * 3600_000;
    if (since > until) throw new ApiError(400, "invalid_request", "since must be before until");
    if (wantsSvg(c)) {
      const svg = renderTimeline(unwrap(await fleet.timeline(since, until)));
      return c.body(svg, 200, { "content-type": "image/svg+xml; charset=utf-8" });
    }
    const report = unwrap(await fleet.report(since, until));
    return wantsText(c) ? c.text(reportText(report)) : c.json(report);
  },
);
