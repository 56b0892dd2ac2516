// The operator API client: Bearer token, JSON or text tables, and errors that say
// what the server said. Every failure is one of three kinds, each with its own exit code.
import type { OperatorSettings } from "./settings";

/** The server answered with an error envelope (or a bare 4xx/5xx). Exit code 1. */
export class ApiRefused extends Error {
  override name = "ApiRefused";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The control plane could not be reached. Exit code 3. */
export class Unreachable extends Error {
  override name = "Unreachable";
}

/** The command line itself is wrong. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON value, or a string sent as `text/markdown`. */
  body?: unknown;
  /** Ask for the terse text table instead of JSON. */
  text?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export class OperatorClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(settings: Pick<OperatorSettings, "url" | "token">, opts: { timeoutMs?: number } = {}) {
    this.url = settings.url.replace(/\/+$/, "");
    this.token = settings.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      accept: opts.text ? "text/plain" : "application/json",
      ...opts.headers,
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (typeof opts.body === "string") {
      body = opts.body;
      headers["content-type"] = "text/markdown; charset=utf-8";
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }

    const signal = opts.signal ?? AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal });
    } catch (err) {
      throw new Unreachable(`cannot reach the control plane at ${this.url}: ${describeFetchError(err)}`);
    }
    const raw = await res.text().catch(() => "");
    if (!res.ok) throw refusal(res, raw);
    if (opts.text) return raw as T;
    if (raw === "") return undefined as T;
    try {
      return JSON.parse(raw) as T;
    } catch {
      throw new ApiRefused(
        res.status,
        "bad_response",
        `the control plane answered ${res.status} with a body that is not JSON`,
      );
    }
  }

  get<T = unknown>(path: string, opts?: RequestOptions) {
    return this.request<T>("GET", path, opts);
  }
  post<T = unknown>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>("POST", path, { ...opts, body: body ?? {} });
  }
  put<T = unknown>(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request<T>("PUT", path, { ...opts, body: body ?? {} });
  }
  delete<T = unknown>(path: string, opts?: RequestOptions) {
    return this.request<T>("DELETE", path, opts);
  }
}

function refusal(res: Response, raw: string): ApiRefused {
  try {
    const parsed = JSON.parse(raw) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === "string") {
      return new ApiRefused(
        res.status,
        e.code,
        typeof e.message === "string" ? e.message : e.code,
        e.details,
      );
    }
  } catch {
    // not an error envelope; fall through
  }
  const text = raw.trim().split("\n")[0]?.slice(0, 200);
  return new ApiRefused(res.status, `http_${res.status}`, text || res.statusText || "request failed");
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "no answer in time";
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(err);
}

/** Encodes one path segment (ids, names). */
export const seg = (s: string) => encodeURIComponent(s);
