// The one error type of the API: a status, a stable code, a message a person can act on.
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** What a Fleet RPC returns: errors travel as values, since RPC does not keep error classes. */
export type Result<T> =
  | { ok: true; value: T }
  | { ok: false; status: ContentfulStatusCode; error: ErrorBody };

export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new ApiError(r.status, r.error.code, r.error.message, r.error.details);
}

export const notFound = (what: string, id: string) =>
  new ApiError(404, "not_found", `no ${what} ${JSON.stringify(id)}`);
