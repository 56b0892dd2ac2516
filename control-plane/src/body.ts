// Request bodies: read once under the 256 KiB limit (Content-Length and actual size), and
// JSON parsed with errors a person can act on.
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";

export const MAX_BODY_BYTES = 256 * 1024;

const tooLarge = () =>
  new ApiError(413, "too_large", `the request body is over ${MAX_BODY_BYTES / 1024} KiB`, {
    limit: MAX_BODY_BYTES,
  });

export async function rawBody(c: Context<AppEnv>): Promise<Uint8Array> {
  const cached = c.get("rawBody");
  if (cached) return cached;
  const declared = c.req.header("content-length");
  if (declared && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  const body = c.req.raw.body;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  c.set("rawBody", out);
  return out;
}

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_request", "the body is not valid UTF-8");
  }
}

export function mediaType(c: Context<AppEnv>): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

export const isJsonType = (type: string) =>
  type === "application/json" || /^application\/[a-z0-9.+-]*\+json$/.test(type);

/** Shapes zod issues as the `details.errors` of an invalid_request. */
export function fieldErrors(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((i) => ({
    field: i.path.length ? i.path.map(String).join(".") : "body",
    message: i.message,
  }));
}

export function invalidRequest(error: z.ZodError, where: string): ApiError {
  const errors = fieldErrors(error);
  return new ApiError(
    400,
    "invalid_request",
    `invalid ${where}: ${errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`,
    { errors },
  );
}

/**
 * Reads and validates a JSON body. An empty body counts as `{}` (so `curl -X POST` works for
 * bodies whose fields are all optional). A body without a Content-Type, or as `text/plain` (what
 * fetch calls a string body), is read as JSON too, since these routes take nothing else; any
 * other content type is refused.
 */
export async function jsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const bytes = await rawBody(c);
  let value: unknown = {};
  if (bytes.byteLength > 0) {
    const type = mediaType(c);
    if (!isJsonType(type) && type !== "" && type !== "text/plain") {
      throw new ApiError(
        415,
        "unsupported_media_type",
        `send JSON with Content-Type: application/json (got ${type || "none"})`,
      );
    }
    const text = decodeUtf8(bytes);
    if (text.trim() !== "") {
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new ApiError(400, "invalid_json", `the body is not valid JSON: ${(err as Error).message}`);
      }
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(parsed.error, "body");
  return parsed.data;
}
