// /v1/specs: dispatch, list, show, and the operator's transitions.
import { dedupKey, parseSpec, sha256Hex } from "@mtor/schema/spec";
import {
  ApproveRequest,
  DeclineRequest,
  DispatchRequest,
  SPEC_STATUSES,
  type SpecStatus,
} from "@mtor/schema/wire";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type AppEnv, fleetOf } from "../app-env";
import { operator } from "../auth/operator";
import { decodeUtf8, isJsonType, jsonBody, mediaType, rawBody } from "../body";
import { ApiError, type Result, unwrap } from "../errors";
import type { DispatchInput } from "../fleet/queue";
import { specListText, specText, wantsText } from "../text";
import { valid } from "./validation";

// Any id that is not a spec answers 404, so only the length is checked here.
export const SpecId = z.object({ id: z.string().min(1).max(100) });

export const ListQuery = z.object({
  count: z.coerce.number().int().min(1).max(200).default(50),
  status: z
    .string()
    .optional()
    .transform((s, ctx) => {
      const list = (s ?? "")
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
      const bad = list.filter((x) => !(SPEC_STATUSES as readonly string[]).includes(x));
      if (bad.length) {
        ctx.addIssue({
          code: "custom",
          message: `unknown status ${bad.join(", ")}; one of ${SPEC_STATUSES.join(", ")}`,
        });
        return z.NEVER;
      }
      return list as SpecStatus[];
    }),
  cursor: z.string().max(200).optional(),
  format: z.string().optional(),
});

/** The front matter fields a JSON dispatch gives beside `spec` (strings and numbers only). */
export function dispatchFields(request: DispatchRequest): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(request)) {
    if (k !== "spec" && (typeof v === "string" || typeof v === "number")) fields[k] = String(v);
  }
  return fields;
}

const TEXT_TYPES = new Set(["text/markdown", "text/plain", "text/x-markdown"]);

/** Extracts the spec text and any extra fields from the four accepted body shapes. */
async function specFromBody(c: Context<AppEnv>): Promise<{ text: string; fields: Record<string, string> }> {
  const bytes = await rawBody(c);
  const type = mediaType(c);
  if (TEXT_TYPES.has(type)) return { text: decodeUtf8(bytes), fields: {} };
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    const form =
      type === "application/x-www-form-urlencoded"
        ? new URLSearchParams(decodeUtf8(bytes))
        : await new Request(c.req.url, {
            method: "POST",
            headers: { "content-type": c.req.header("content-type") ?? "" },
            body: bytes,
          })
            .formData()
            .catch(() => {
              throw new ApiError(400, "invalid_request", "the multipart body could not be parsed");
            });
    const value = form.get("spec");
    // `curl -d 'Fix the flaky test' …/v1/specs?repo=…` sends its text as a form of one key
    // with no value: that key is the spec, taken as typed (curl does not encode it).
    if (value === null && type === "application/x-www-form-urlencoded") {
      const entries = [...form.entries()];
      if (entries.length === 1 && entries[0][1] === "") {
        const raw = decodeUtf8(bytes);
        return { text: raw.endsWith("=") ? entries[0][0] : raw, fields: {} };
      }
    }
    // `curl --data-binary @spec.md` labels raw Markdown as a form; a body that reads as a spec
    // (front matter or a heading first) is taken whole rather than refused.
    if (value === null && type === "application/x-www-form-urlencoded") {
      const raw = decodeUtf8(bytes);
      if (/^\uFEFF?(---[ \t]*\r?\n|#)/.test(raw)) return { text: raw, fields: {} };
    }
    if (value === null) {
      throw new ApiError(
        400,
        "invalid_request",
        "the form has no `spec` field; send the spec as the whole body with Content-Type: text/plain, e.g. curl -H 'Content-Type: text/plain' --data-binary 'Fix the flaky clock test' \"…/v1/specs?repo=NAME\"",
        { errors: [{ field: "spec", message: "is required" }] },
      );
    }
    const text = typeof value === "string" ? value : await (value as Blob).text();
    return { text, fields: {} };
  }
  if (isJsonType(type)) {
    let json: unknown;
    try {
      json = JSON.parse(decodeUtf8(bytes));
    } catch (err) {
      throw new ApiError(400, "invalid_json", `the body is not valid JSON: ${(err as Error).message}`);
    }
    const request = DispatchRequest.safeParse(json);
    if (!request.success) {
      throw new ApiError(400, "invalid_request", 'send {"spec": "<markdown>"}', {
        errors: [{ field: "spec", message: "is required and must be a string" }],
      });
    }
    return { text: request.data.spec, fields: dispatchFields(request.data) };
  }
  throw new ApiError(
    415,
    "unsupported_media_type",
    `send the spec as text/markdown, text/plain, a form field \`spec\` or JSON {"spec": "..."} (got ${type || "no Content-Type"})`,
  );
}

export const specs = new Hono<AppEnv>()
  .post("/", operator("dispatch"), async (c) => {
    const fleet = fleetOf(c.env);
    const who = c.get("operator");
    const key = c.req.header("idempotency-key");
    const bytes = await rawBody(c);
    let idem: { scope: string; key: string; requestHash: string } | undefined;
    if (key !== undefined) {
      if (key.length === 0 || key.length > 200) {
        throw new ApiError(400, "invalid_request", "Idempotency-Key must be 1 to 200 characters", {
          errors: [{ field: "Idempotency-Key", message: "must be 1 to 200 characters" }],
        });
      }
      const requestHash = await sha256Hex(
        `${mediaType(c)}\n${new URL(c.req.url).search}\n${new TextDecoder().decode(bytes)}`,
      );
      idem = { scope: who.name, key, requestHash };
    }
    // The spec is parsed here; one Fleet call checks the key and dispatches, or refuses.
    let input: Result<DispatchInput>;
    try {
      const { text, fields } = await specFromBody(c);
      const parsed = parseSpec(text, { ...c.req.query(), ...fields });
      if (!parsed.ok) {
        throw new ApiError(
          400,
          "invalid_spec",
          `the spec is invalid: ${parsed.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`,
          { errors: parsed.errors },
        );
      }
      input = {
        ok: true,
        value: {
          spec: parsed.spec,
          lint: parsed.lint,
          dedupKey: await dedupKey(parsed.spec),
          createdBy: who.name,
        },
      };
    } catch (err) {
      if (!(err instanceof ApiError) || !idem) throw err;
      input = { ok: false, status: err.status, error: err.toBody() };
    }
    const out = unwrap(await fleet.dispatch(input, idem));
    if (out.replayed) c.header("idempotent-replayed", "true");
    return c.json(out.body as object, out.status as 201);
  })
  .get("/", operator("read"), valid("query", ListQuery), async (c) => {
    const q = c.req.valid("query");
    const list = unwrap(
      await fleetOf(c.env).listSpecs({ count: q.count, statuses: q.status, cursor: q.cursor }),
    );
    return wantsText(c) ? c.text(specListText(list)) : c.json(list);
  })
  .get("/:id", operator("read"), valid("param", SpecId), async (c) => {
    const spec = unwrap(await fleetOf(c.env).getSpec(c.req.valid("param").id));
    return wantsText(c) ? c.text(specText(spec)) : c.json(spec);
  })
  .post("/:id/kill", operator("dispatch"), valid("param", SpecId), async (c) => {
    await jsonBody(c, z.object({}).loose());
    return c.json(unwrap(await fleetOf(c.env).kill(c.req.valid("param").id)));
  })
  .post("/:id/retry", operator("dispatch"), valid("param", SpecId), async (c) => {
    await jsonBody(c, z.object({}).loose());
    return c.json(unwrap(await fleetOf(c.env).retry(c.req.valid("param").id)));
  })
  .post("/:id/approve", operator("dispatch"), valid("param", SpecId), async (c) => {
    const body = await jsonBody(c, ApproveRequest);
    return c.json(
      unwrap(await fleetOf(c.env).approve(c.req.valid("param").id, body, c.get("operator").name)),
    );
  })
  .post("/:id/decline", operator("dispatch"), valid("param", SpecId), async (c) => {
    const body = await jsonBody(c, DeclineRequest);
    return c.json(
      unwrap(await fleetOf(c.env).decline(c.req.valid("param").id, body, c.get("operator").name)),
    );
  });
