// /mcp: a remote MCP server (Streamable HTTP, stateless, JSON answers) for the architect agent,
// behind the same operator bearer tokens as the API. Each POST builds a fresh server, so no
// state lives in the Worker between requests; the tools act through the operator API.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operator } from "../auth/operator";
import { MAX_BODY_BYTES } from "../body";
import type { ApiFetch } from "../dashboard/api";
import { ApiError } from "../errors";
import { registerTools } from "../mcp/tools";

export const MCP_SERVER_INFO = { name: "mtor", version: "0.1.0" };

export function mcpRoutes(api: ApiFetch) {
  return new Hono<AppEnv>()
    .post("/", operator("read"), async (c) => {
      const authorization = c.req.header("authorization") ?? "";
      let executionCtx: ExecutionContext<unknown> | undefined;
      try {
        executionCtx = c.executionCtx as ExecutionContext<unknown>;
      } catch {
        executionCtx = undefined;
      }
      const server = new McpServer(MCP_SERVER_INFO, {
        // Ajv compiles validators with `new Function`, which workerd forbids.
        jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
        instructions:
          "mtor is an overnight queue for coding agents. dispatch_spec queues a spec (Markdown with YAML front " +
          "matter: title, repo, tests, stop); lint_spec checks one without queueing; list_specs and show_spec " +
          "follow it; approve, decline, retry and kill act on it; report, providers and status show the fleet.",
      });
      registerTools(server, async (method, path, body) => {
        const headers: Record<string, string> = { authorization, accept: "application/json" };
        if (body !== undefined) headers["content-type"] = "application/json";
        const req = new Request(new URL(path, c.req.url), {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return api(req, c.env, executionCtx);
      });
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
        maxRequestBodySize: MAX_BODY_BYTES,
      });
      await server.connect(transport);
      try {
        return await transport.handleRequest(c.req.raw);
      } finally {
        await server.close();
      }
    })
    .all("/", () => {
      // Stateless: there is no stream to open with GET and no session to end with DELETE.
      throw new ApiError(
        405,
        "method_not_allowed",
        "the MCP endpoint answers POST only (stateless Streamable HTTP)",
      );
    });
}
