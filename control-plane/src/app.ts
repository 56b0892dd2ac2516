// The Hono app: one router per resource, one error envelope for every failure.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { rawBody } from "./body";
import { dashboard } from "./dashboard";
import { ApiError } from "./errors";
import { openApiRoutes } from "./openapi/routes";
import { actionRoutes } from "./routes/actions";
import { executorApi } from "./routes/executor-api";
import { executorRoutes } from "./routes/executors";
import { fleetRoutes } from "./routes/fleet";
import { gateRoutes } from "./routes/gates";
import { mcpRoutes } from "./routes/mcp";
import { providerRoutes } from "./routes/providers";
import { reportRoutes } from "./routes/report";
import { settingsRoutes } from "./routes/settings";
import { specs } from "./routes/specs";
import { webhookRoutes } from "./routes/webhooks";
import { textAnswers } from "./text-answers";

export interface AppOptions {
  /**
   * Mounts routes and middleware ahead of the API's own. A deployment's Worker passes nothing;
   * the test build mounts its clock and seeding routes here.
   */
  mount?: (app: Hono<AppEnv>) => void;
}

export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Every JSON answer, errors included, as text when asked (`Accept: text/plain`, `?format=text`).
  app.use("*", textAnswers);
  // Every body, on every route (API, dashboard forms, phone actions, MCP), is read under the
  // 256 KiB limit before anything parses it; the handlers then read the buffered copy.
  app.use("*", async (c, next) => {
    if (c.req.raw.body) {
      const bytes = await rawBody(c);
      // A GET or HEAD may arrive with a body (HTTP allows it), but a Request cannot carry one:
      // rebuilding it with the body threw, and the request answered 500. Such a body means
      // nothing to any route, so it is read under the limit and dropped.
      const method = c.req.raw.method;
      c.req.raw = new Request(c.req.raw.url, {
        method,
        headers: c.req.raw.headers,
        body: method === "GET" || method === "HEAD" ? null : bytes,
        signal: c.req.raw.signal,
      });
    }
    await next();
  });
  app.get("/healthz", (c) => c.json({ ok: true }));
  options.mount?.(app);
  app.route("/", openApiRoutes);
  app.route("/v1/specs", specs);
  app.route("/v1/providers", providerRoutes);
  app.route("/v1/gates", gateRoutes);
  app.route("/v1/executors", executorRoutes);
  app.route("/v1/settings", settingsRoutes);
  app.route("/v1/executor", executorApi);
  app.route("/v1", fleetRoutes);
  app.route("/v1", webhookRoutes);
  app.route("/v1/report", reportRoutes);
  app.route("/actions", actionRoutes);
  // The dashboard and the MCP tools act through this same app, in-process, with the caller's
  // operator token.
  const api = (req: Request, env: unknown, ctx: ExecutionContext<unknown> | undefined) =>
    app.fetch(req, env as AppEnv["Bindings"], ctx);
  app.route("/mcp", mcpRoutes(api));
  app.route("/", dashboard(api));

  app.notFound((c) =>
    c.json(
      { error: { code: "not_found", message: `no route ${c.req.method} ${new URL(c.req.url).pathname}` } },
      404,
    ),
  );

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: err.toBody() }, err.status);
    if (err instanceof HTTPException && err.status < 500) {
      const code = err.status === 400 && /json/i.test(err.message) ? "invalid_json" : `http_${err.status}`;
      return c.json({ error: { code, message: err.message || "bad request" } }, err.status);
    }
    console.error("unhandled error", c.req.method, c.req.path, err);
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });

  return app;
}
