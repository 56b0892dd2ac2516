// Every route of the HTTP API, described once: the OpenAPI document and the /docs
// page are both generated from this list and the zod schemas in `schema/`.
export type Auth = "none" | "read" | "dispatch" | "admin" | "signed";

export interface Operation {
  method: "get" | "post" | "put" | "delete";
  path: string;
  tag: string;
  summary: string;
  auth: Auth;
  /** A component name, or "markdown" for a spec body. */
  body?: string;
  query?: { name: string; description: string; schema: Record<string, unknown> }[];
  /** `svg`: the route also answers image/svg+xml (`Accept` or `?format=svg`). */
  ok: { status: number; description: string; schema?: string; text?: boolean; svg?: boolean };
  errors?: number[];
  /**
   * OpenAPI links from the ok answer to operations it enables ("method /path" → parameters as
   * runtime expressions), so stateful clients and testers can follow a resource's life.
   */
  links?: Record<string, { to: string; parameters: Record<string, string> }>;
}

const specId = { id: "$response.body#/id" };
const webhookId = { id: "$response.body#/id" };
const providerName = { name: "$request.path.name" };

const str = { type: "string" };

export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/healthz",
    tag: "meta",
    summary: "Liveness",
    auth: "none",
    ok: { status: 200, description: "{ok: true}" },
  },
  {
    method: "get",
    path: "/v1/openapi.json",
    tag: "meta",
    summary: "This document",
    auth: "none",
    ok: { status: 200, description: "OpenAPI 3.1" },
  },
  {
    method: "get",
    path: "/docs",
    tag: "meta",
    summary: "This document as a page",
    auth: "none",
    ok: { status: 200, description: "HTML" },
  },
  {
    method: "post",
    path: "/v1/specs",
    tag: "specs",
    summary:
      "Dispatch a spec (Markdown with YAML front matter; fields may also be query parameters, front matter wins)",
    auth: "dispatch",
    body: "markdown",
    query: [
      { name: "repo", description: "any front-matter field, e.g. repo, provider, priority", schema: str },
    ],
    ok: { status: 201, description: "Queued", schema: "DispatchResponse" },
    errors: [400, 401, 403, 409, 413, 415, 422],
    links: {
      show: { to: "get /v1/specs/{id}", parameters: specId },
      kill: { to: "post /v1/specs/{id}/kill", parameters: specId },
      retry: { to: "post /v1/specs/{id}/retry", parameters: specId },
      approve: { to: "post /v1/specs/{id}/approve", parameters: specId },
      decline: { to: "post /v1/specs/{id}/decline", parameters: specId },
    },
  },
  {
    method: "get",
    path: "/v1/specs",
    tag: "specs",
    summary: "List specs, newest first",
    auth: "read",
    query: [
      {
        name: "count",
        description: "how many (1–200, default 50)",
        schema: { type: "integer", minimum: 1, maximum: 200 },
      },
      { name: "status", description: "comma-separated statuses", schema: str },
      { name: "cursor", description: "next_cursor of the previous page", schema: str },
    ],
    ok: { status: 200, description: "A page of specs", schema: "SpecList", text: true },
    errors: [400, 401],
  },
  {
    method: "get",
    path: "/v1/specs/{id}",
    tag: "specs",
    summary: "One spec with its front matter, body, runs and review",
    auth: "read",
    ok: { status: 200, description: "The spec", schema: "SpecDetail", text: true },
    errors: [401, 404],
  },
  {
    method: "post",
    path: "/v1/specs/{id}/kill",
    tag: "specs",
    summary: "Cancel a spec",
    auth: "dispatch",
    ok: { status: 200, description: "The spec", schema: "SpecSummary" },
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/v1/specs/{id}/retry",
    tag: "specs",
    summary: "Queue a new attempt",
    auth: "dispatch",
    ok: { status: 200, description: "The spec", schema: "SpecSummary" },
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/v1/specs/{id}/approve",
    tag: "specs",
    summary: "Approve, with an optional grade (A–F, + or -) and note",
    auth: "dispatch",
    body: "ApproveRequest",
    ok: { status: 200, description: "The spec", schema: "SpecSummary" },
    errors: [400, 404, 409],
  },
  {
    method: "post",
    path: "/v1/specs/{id}/decline",
    tag: "specs",
    summary: "Decline; with retry, queue a new attempt with the note as feedback",
    auth: "dispatch",
    body: "DeclineRequest",
    ok: { status: 200, description: "The spec", schema: "SpecSummary" },
    errors: [400, 404, 409],
  },
  {
    method: "get",
    path: "/v1/status",
    tag: "fleet",
    summary: "Frozen or not, counts by status, providers, executors",
    auth: "read",
    ok: { status: 200, description: "Status", schema: "StatusView", text: true },
  },
  {
    method: "post",
    path: "/v1/freeze",
    tag: "fleet",
    summary: "Freeze the fleet: no new claims",
    auth: "admin",
    ok: { status: 200, description: "Frozen" },
  },
  {
    method: "post",
    path: "/v1/thaw",
    tag: "fleet",
    summary: "Thaw the fleet",
    auth: "admin",
    ok: { status: 200, description: "Thawed" },
  },
  {
    method: "get",
    path: "/v1/settings",
    tag: "fleet",
    summary: "Night controls: max_awaiting_review, fleet-wide and per repo, with the review backlog now",
    auth: "read",
    ok: { status: 200, description: "Settings", schema: "SettingsView", text: true },
  },
  {
    method: "put",
    path: "/v1/settings",
    tag: "fleet",
    summary:
      "Change the night controls: max_awaiting_review (0 = off) and repos.<name>.max_awaiting_review (null = the fleet's)",
    auth: "admin",
    body: "FleetSettingsUpdate",
    ok: { status: 200, description: "Settings", schema: "SettingsView", text: true },
    errors: [400],
  },
  {
    method: "get",
    path: "/v1/providers",
    tag: "providers",
    summary: "Providers: slots, effective slots, in use, breaker, cooling, frozen",
    auth: "read",
    ok: { status: 200, description: "Providers", schema: "ProviderList", text: true },
  },
  {
    method: "put",
    path: "/v1/providers/{name}",
    tag: "providers",
    summary: "Create or change a provider",
    auth: "admin",
    body: "ProviderUpdate",
    ok: { status: 200, description: "The provider", schema: "ProviderView" },
    errors: [400],
    links: {
      freeze: { to: "post /v1/providers/{name}/freeze", parameters: providerName },
      thaw: { to: "post /v1/providers/{name}/thaw", parameters: providerName },
      remove: { to: "delete /v1/providers/{name}", parameters: providerName },
    },
  },
  {
    method: "delete",
    path: "/v1/providers/{name}",
    tag: "providers",
    summary: "Forget a provider",
    auth: "admin",
    ok: { status: 200, description: "Deleted" },
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/v1/providers/{name}/freeze",
    tag: "providers",
    summary: "Freeze one provider",
    auth: "admin",
    ok: { status: 200, description: "The provider", schema: "ProviderView" },
  },
  {
    method: "post",
    path: "/v1/providers/{name}/thaw",
    tag: "providers",
    summary: "Thaw one provider",
    auth: "admin",
    ok: { status: 200, description: "The provider", schema: "ProviderView" },
  },
  {
    method: "get",
    path: "/v1/gates",
    tag: "gates",
    summary: "Each gate's action and retry switch",
    auth: "read",
    ok: { status: 200, description: "Gates" },
  },
  {
    method: "put",
    path: "/v1/gates/{name}",
    tag: "gates",
    summary: "Set a gate's action (reject, review, off) and retry",
    auth: "admin",
    body: "GateUpdate",
    ok: { status: 200, description: "The gate" },
    errors: [400],
  },
  {
    method: "get",
    path: "/v1/executors",
    tag: "executors",
    summary: "Executors, their load and runs",
    auth: "read",
    ok: { status: 200, description: "Executors", schema: "ExecutorList", text: true },
  },
  {
    method: "post",
    path: "/v1/executors/{id}/drain",
    tag: "executors",
    summary: "Let an executor finish its runs and take no new ones",
    auth: "admin",
    ok: { status: 200, description: "The executor" },
    errors: [404],
  },
  {
    method: "post",
    path: "/v1/executors/{id}/undrain",
    tag: "executors",
    summary: "Let a drained executor take work again",
    auth: "admin",
    ok: { status: 200, description: "The executor" },
    errors: [404],
  },
  {
    method: "get",
    path: "/v1/webhooks",
    tag: "webhooks",
    summary: "Webhook endpoints",
    auth: "read",
    ok: { status: 200, description: "Endpoints" },
  },
  {
    method: "post",
    path: "/v1/webhooks",
    tag: "webhooks",
    summary: "Add an endpoint (Standard Webhooks signing; formats standard, slack, discord, ntfy)",
    auth: "admin",
    body: "WebhookCreate",
    ok: { status: 201, description: "The endpoint with its secret" },
    errors: [400],
    links: {
      deliveries: { to: "get /v1/webhooks/{id}/deliveries", parameters: webhookId },
      remove: { to: "delete /v1/webhooks/{id}", parameters: webhookId },
    },
  },
  {
    method: "delete",
    path: "/v1/webhooks/{id}",
    tag: "webhooks",
    summary: "Remove an endpoint",
    auth: "admin",
    ok: { status: 200, description: "Removed" },
    errors: [404],
  },
  {
    method: "post",
    path: "/v1/webhooks/{id}/test",
    tag: "webhooks",
    summary:
      "Send a test notification: a sample spec.verdict in the endpoint's format, sent at once; answers the delivery after that attempt (delivered, or pending with last_error saying what failed)",
    auth: "admin",
    ok: { status: 200, description: "The test delivery" },
    errors: [404],
  },
  {
    method: "get",
    path: "/v1/webhooks/{id}/deliveries",
    tag: "webhooks",
    summary: "An endpoint's delivery log",
    auth: "read",
    ok: { status: 200, description: "Deliveries" },
    errors: [404],
  },
  {
    method: "post",
    path: "/v1/deliveries/{id}/redeliver",
    tag: "webhooks",
    summary: "Send a delivery again",
    auth: "admin",
    ok: { status: 202, description: "Queued again" },
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/v1/report",
    tag: "report",
    summary:
      "The night's report: each spec's outcome, grade, lines, flags; per provider runs, pass rate, tasks per hour, tokens, cost; or its timeline picture as SVG",
    auth: "read",
    query: [
      {
        name: "since",
        description: "ISO time; default the last 24 h",
        schema: { type: "string", format: "date-time" },
      },
      {
        name: "until",
        description: "ISO time; default now",
        schema: { type: "string", format: "date-time" },
      },
    ],
    ok: { status: 200, description: "The report", text: true, svg: true },
  },
  {
    method: "post",
    path: "/v1/executor/claim",
    tag: "executor",
    summary: "Long-poll for runs (answers as soon as work is there, else after wait_s with a reason)",
    auth: "signed",
    body: "ClaimRequest",
    ok: { status: 200, description: "Claimed runs", schema: "ClaimResponse" },
    errors: [400, 401],
  },
  {
    method: "post",
    path: "/v1/executor/runs/{id}/heartbeat",
    tag: "executor",
    summary: "Renew a run's lease; says whether to cancel",
    auth: "signed",
    body: "HeartbeatRequest",
    ok: { status: 200, description: "Lease renewed", schema: "HeartbeatResponse" },
    errors: [401, 409],
  },
  {
    method: "post",
    path: "/v1/executor/runs/{id}/verdict",
    tag: "executor",
    summary: "Report a run's verdict (idempotent for the same lease token)",
    auth: "signed",
    body: "VerdictRequest",
    ok: { status: 200, description: "The spec's new status", schema: "VerdictResponse" },
    errors: [400, 401, 409],
  },
];
