// The MCP tools an architect agent drives the queue with. Each tool is one call of the operator
// API, made in-process with the caller's own bearer token, so a tool validates, checks roles and
// answers exactly as the HTTP endpoint it stands for does.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { GateSettings } from "@mtor/schema/gates";
import { parseSpec, specLint } from "@mtor/schema/spec";
import { ApproveRequest, DeclineRequest, DispatchRequest, ProviderUpdate } from "@mtor/schema/wire";
import { z } from "zod";
import { ProviderName } from "../routes/providers";
import { ReportQuery } from "../routes/report";
import { dispatchFields, ListQuery, SpecId } from "../routes/specs";

/** One operator API call: method, path (with query) and an optional JSON or Markdown body. */
export type OperatorCall = (method: string, path: string, body?: unknown) => Promise<Response>;

/** Turns an API answer into a tool result: the JSON on success, the error envelope's words on failure. */
async function result(res: Response): Promise<CallToolResult> {
  const text = await res.text();
  if (res.ok) return { content: [{ type: "text", text }] };
  let message = `${res.status} ${res.statusText}`;
  try {
    const envelope = JSON.parse(text) as { error?: { code: string; message: string; details?: unknown } };
    if (envelope.error) {
      const details =
        envelope.error.details === undefined ? "" : `\n${JSON.stringify(envelope.error.details)}`;
      message = `${res.status} ${envelope.error.code}: ${envelope.error.message}${details}`;
    }
  } catch {
    // Not an error envelope: the status line says what there is to say.
  }
  return { content: [{ type: "text", text: message }], isError: true };
}

const json = (value: unknown): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
});

const refused = (message: string): CallToolResult => ({
  content: [{ type: "text", text: message }],
  isError: true,
});

const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
};

const ListInput = ListQuery.omit({ format: true });
const ReportInput = ReportQuery.omit({ format: true });
const SpecAction = SpecId;
const ApproveInput = SpecId.extend(ApproveRequest.shape);
const DeclineInput = SpecId.extend(DeclineRequest.shape);
const ProvidersInput = z.object({
  action: z
    .enum(["list", "update", "freeze", "thaw"])
    .default("list")
    .describe("list (the default); update a provider's settings; freeze or thaw new claims"),
  name: ProviderName.shape.name
    .optional()
    .describe("the provider; required for update; freeze and thaw without a name act on the whole fleet"),
  settings: ProviderUpdate.strict().optional().describe("for update: the settings to change"),
});

/** Registers every tool on `server`; `call` reaches the operator API as the MCP caller. */
export function registerTools(server: McpServer, call: OperatorCall): void {
  server.registerTool(
    "dispatch_spec",
    {
      title: "Dispatch a spec",
      description:
        "Queue a spec (Markdown with YAML front matter: title, repo, tests, stop, targets, …) for the fleet. " +
        "Answers the new spec's id, status, queue position and the lint warnings. Needs the dispatch role.",
      inputSchema: DispatchRequest,
    },
    async (args) => result(await call("POST", "/v1/specs", args)),
  );

  server.registerTool(
    "lint_spec",
    {
      title: "Lint a spec without queueing it",
      description:
        "Check a spec as dispatch would: the errors that would refuse it, the warnings it would carry, and " +
        "whether the spec_lint gate would reject it. Queues nothing. Needs the read role.",
      inputSchema: DispatchRequest,
      annotations: { readOnlyHint: true },
    },
    async (args) => {
      const parsed = parseSpec(args.spec, dispatchFields(args));
      if (!parsed.ok) return json({ ok: false, errors: parsed.errors, warnings: [], lint: [] });
      // The gate setting decides whether a lint warning refuses the dispatch, as at dispatch.
      const res = await call("GET", "/v1/gates");
      if (!res.ok) return result(res);
      const { gates } = (await res.json()) as { gates: GateSettings };
      const { lint, warnings, errors } = specLint(parsed.lint, gates.spec_lint.action);
      const { body, ...front } = parsed.spec;
      return json({
        ok: errors.length === 0,
        errors,
        warnings,
        lint,
        spec: { ...front, body_chars: body.length },
      });
    },
  );

  server.registerTool(
    "list_specs",
    {
      title: "List specs",
      description:
        "Specs newest first with their status, provider, attempt, outcome and flags. `status` is a " +
        "comma-separated filter (e.g. awaiting_review,failed); pass `cursor` from next_cursor for more. Needs the read role.",
      inputSchema: ListInput,
      annotations: { readOnlyHint: true },
    },
    async (args) =>
      result(
        await call(
          "GET",
          `/v1/specs${query({ count: args.count, status: args.status?.join(","), cursor: args.cursor })}`,
        ),
      ),
  );

  server.registerTool(
    "show_spec",
    {
      title: "Show one spec",
      description:
        "One spec with its front matter, body, every run (executor, provider, outcome, gate flags, branch, " +
        "head sha, diffstat, usage, failure, log tail, reviewer grade) and the operator's review. Needs the read role.",
      inputSchema: SpecId,
      annotations: { readOnlyHint: true },
    },
    async ({ id }) => result(await call("GET", `/v1/specs/${path(id)}`)),
  );

  server.registerTool(
    "approve",
    {
      title: "Approve a spec",
      description:
        "Approve a spec awaiting review, with an optional grade (A to F, + or -) and note. Needs the dispatch role.",
      inputSchema: ApproveInput,
    },
    async ({ id, ...body }) => result(await call("POST", `/v1/specs/${path(id)}/approve`, body)),
  );

  server.registerTool(
    "decline",
    {
      title: "Decline a spec",
      description:
        "Decline a spec awaiting review, with an optional note; retry: true queues a new attempt with the note " +
        "as feedback. Needs the dispatch role.",
      inputSchema: DeclineInput,
    },
    async ({ id, ...body }) => result(await call("POST", `/v1/specs/${path(id)}/decline`, body)),
  );

  server.registerTool(
    "retry",
    {
      title: "Retry a spec",
      description:
        "Queue a new attempt of a rejected, failed, dead, canceled or declined spec. Needs the dispatch role.",
      inputSchema: SpecAction,
    },
    async ({ id }) => result(await call("POST", `/v1/specs/${path(id)}/retry`, {})),
  );

  server.registerTool(
    "kill",
    {
      title: "Kill a spec",
      description:
        "Cancel a spec that is not finished; a running attempt is told to stop at its next heartbeat. Needs the dispatch role.",
      inputSchema: SpecAction,
      annotations: { destructiveHint: true },
    },
    async ({ id }) => result(await call("POST", `/v1/specs/${path(id)}/kill`, {})),
  );

  server.registerTool(
    "report",
    {
      title: "The night's report",
      description:
        "Each spec's outcome, grade, lines and flags; per provider runs, pass rate, tasks per hour, tokens and " +
        "cost; totals; the night controls, with spend against the budgets and when a budget held claims. " +
        "Defaults to the last 24 h. Needs the read role.",
      inputSchema: ReportInput,
      annotations: { readOnlyHint: true },
    },
    async (args) => result(await call("GET", `/v1/report${query(args)}`)),
  );

  server.registerTool(
    "providers",
    {
      title: "Providers: list, update, freeze, thaw",
      description:
        "List providers with slots, effective slots, in use, breaker, cooling and frozen (read role); or, with the " +
        "admin role, update one provider's settings (slots, window, budget_usd, price), or freeze or thaw new " +
        "claims for one provider or the fleet.",
      inputSchema: ProvidersInput,
    },
    async ({ action, name, settings }) => {
      if (action === "list") return result(await call("GET", "/v1/providers"));
      if (action === "update") {
        if (!name || !settings) return refused("update needs `name` and `settings`");
        return result(await call("PUT", `/v1/providers/${path(name)}`, settings));
      }
      return result(await call("POST", name ? `/v1/providers/${path(name)}/${action}` : `/v1/${action}`, {}));
    },
  );

  server.registerTool(
    "status",
    {
      title: "Fleet status",
      description:
        "Whether the fleet is frozen, spec counts by status, providers and executors, the review backlog, the " +
        "run windows and tonight's spend against the budgets (`budget`). Needs the read role.",
      inputSchema: z.object({}),
      annotations: { readOnlyHint: true },
    },
    async () => result(await call("GET", "/v1/status")),
  );
}
