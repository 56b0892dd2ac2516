// The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas in `schema/` (zod's
// own JSON Schema output, which OpenAPI 3.1 takes as is) and the route list in operations.ts.
import * as wire from "@mtor/schema/wire";
import { z } from "zod";
import { type Auth, OPERATIONS, type Operation } from "./operations";

const COMPONENTS: Record<string, z.ZodType> = {
  ErrorEnvelope: wire.ErrorEnvelope,
  DispatchResponse: wire.DispatchResponse,
  SpecSummary: wire.SpecSummary,
  SpecList: wire.SpecList,
  RunView: wire.RunView,
  ReviewView: wire.ReviewView,
  SpecDetail: wire.SpecDetail,
  ApproveRequest: wire.ApproveRequest,
  DeclineRequest: wire.DeclineRequest,
  ProviderUpdate: wire.ProviderUpdate,
  ProviderView: wire.ProviderView,
  ProviderList: wire.ProviderList,
  ExecutorView: wire.ExecutorView,
  ExecutorList: wire.ExecutorList,
  GateUpdate: wire.GateUpdate,
  StatusView: wire.StatusView,
  FleetSettingsUpdate: wire.FleetSettingsUpdate,
  SettingsView: wire.SettingsView,
  WebhookCreate: wire.WebhookCreate,
  ClaimRequest: wire.ClaimRequest,
  ClaimResponse: wire.ClaimResponse,
  HeartbeatRequest: wire.HeartbeatRequest,
  HeartbeatResponse: wire.HeartbeatResponse,
  VerdictRequest: wire.VerdictRequest,
  VerdictResponse: wire.VerdictResponse,
};

const ERRORS: Record<number, string> = {
  400: "Invalid request; `details.errors` names each bad field",
  401: "Missing or wrong token (operator) or signature (executor)",
  403: "The token's role does not allow this",
  404: "No such thing",
  409: "Conflict: duplicate spec, wrong state for this transition, or a lost lease",
  413: "Body over 256 KiB",
  415: "Unsupported Content-Type",
  422: "Idempotency-Key reused with a different body",
};

const ROLE_NOTE: Record<Auth, string> = {
  none: "No authentication.",
  read: "Operator token with role read, dispatch or admin.",
  dispatch: "Operator token with role dispatch or admin.",
  admin: "Operator token with role admin.",
  signed: "RFC 9421 HMAC-SHA256 signature with an RFC 9530 Content-Digest (executor key).",
};

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

function components(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
    io: "output",
  }) as { schemas: Record<string, Record<string, unknown>> };
  for (const s of Object.values(out.schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return out.schemas;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function operationId(op: Operation): string {
  return `${op.method}${op.path.replace(/\{(\w+)\}/g, "By_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`;
}

function operation(op: Operation): Record<string, unknown> {
  const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  const query = (op.query ?? []).map((q) => ({
    name: q.name,
    in: "query",
    required: false,
    description: q.description,
    schema: q.schema,
  }));
  const okContent: Record<string, unknown> = {
    "application/json": { schema: op.ok.schema ? ref(op.ok.schema) : {} },
  };
  if (op.ok.text) okContent["text/plain"] = { schema: { type: "string" } };
  if (op.ok.svg) okContent["image/svg+xml"] = { schema: { type: "string" } };
  const responses: Record<string, unknown> = {
    [op.ok.status]: { description: op.ok.description, content: okContent },
  };
  const errors = new Set(op.errors ?? []);
  // Every route validates its path and query (a 400 names the field), and a path names one thing
  // that may not exist (404).
  if (params.length > 0) errors.add(400).add(404);
  if (query.length > 0) errors.add(400);
  if (op.auth !== "none") errors.add(401);
  if (op.auth === "dispatch" || op.auth === "admin") errors.add(403);
  for (const status of [...errors].sort()) {
    responses[status] = {
      description: ERRORS[status] ?? "Error",
      content: { "application/json": { schema: ref("ErrorEnvelope") } },
    };
  }
  if (op.links) {
    (responses[op.ok.status] as Record<string, unknown>).links = Object.fromEntries(
      Object.entries(op.links).map(([name, link]) => {
        const [method, path] = link.to.split(" ");
        const target = OPERATIONS.find((o) => o.method === method && o.path === path);
        if (!target)
          throw new Error(`openapi: link ${name} of ${op.method} ${op.path} to unknown ${link.to}`);
        return [name, { operationId: operationId(target), parameters: link.parameters }];
      }),
    );
  }
  const out: Record<string, unknown> = {
    operationId: operationId(op),
    tags: [op.tag],
    summary: op.summary,
    description: `${ROLE_NOTE[op.auth]}${op.ok.text ? " `Accept: text/plain` or `?format=text` gives a text table." : ""}${op.ok.svg ? " `Accept: image/svg+xml` or `?format=svg` gives the night's timeline as an SVG picture." : ""}`,
    parameters: [...params, ...query],
    responses,
  };
  if (op.auth === "signed") out.security = [{ executorSignature: [] }];
  else if (op.auth !== "none") out.security = [{ operatorToken: [] }];
  else out.security = [];
  if (op.body === "markdown") {
    out.requestBody = {
      required: true,
      content: {
        "text/markdown": { schema: { type: "string" } },
        "text/plain": { schema: { type: "string" } },
        "application/json": {
          schema: { type: "object", properties: { spec: { type: "string" } }, required: ["spec"] },
        },
        "application/x-www-form-urlencoded": {
          schema: { type: "object", properties: { spec: { type: "string" } }, required: ["spec"] },
        },
      },
    };
  } else if (op.body) {
    out.requestBody = { required: true, content: { "application/json": { schema: ref(op.body) } } };
  }
  return out;
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    paths[op.path] ??= {};
    paths[op.path][op.method] = operation(op);
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "mtor",
      version: "1",
      description:
        "An overnight queue for coding agents. Operators dispatch specs and review verdicts; executors claim runs over signed requests. Errors are always `{error: {code, message, details}}`.",
    },
    tags: ["specs", "fleet", "providers", "gates", "executors", "webhooks", "report", "executor", "meta"].map(
      (name) => ({ name }),
    ),
    components: {
      securitySchemes: {
        operatorToken: {
          type: "http",
          scheme: "bearer",
          description: "A token from OPERATOR_TOKENS (name:token:role).",
        },
        executorSignature: {
          type: "apiKey",
          in: "header",
          name: "Signature",
          description:
            "RFC 9421 signature over @method, @target-uri and content-digest, HMAC-SHA256 with a key from EXECUTOR_KEYS.",
        },
      },
      schemas: components(),
    },
    paths,
  };
  return cached;
}
