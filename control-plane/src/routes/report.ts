// /v1/report?since=ISO[&until=ISO]: the night's report as JSON, or as the morning text summary.
import { Hono } from "hono";
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
    const report = unwrap(await fleet.report(since, until));
    return wantsText(c) ? c.text(reportText(report)) : c.json(report);
  },
);
