// A small client for the executor API: signs every request and returns typed
// results. Used by the executor and by tests; runs in Node and in workerd.
import { signRequest } from "./signing";
import {
  type ClaimRequest,
  ClaimResponse,
  type ErrorEnvelope,
  type HeartbeatRequest,
  HeartbeatResponse,
  type VerdictRequest,
  VerdictResponse,
} from "./wire";

export interface ExecutorClientOptions {
  /** Base URL of the control plane, e.g. http://127.0.0.1:8787 */
  url: string;
  keyId: string;
  secret: string;
  /** Injected for tests (e.g. SELF.fetch) and for proxies. */
  fetch?: (input: Request) => Promise<Response>;
  /** Unix seconds, injected for tests. */
  now?: () => number;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; error: ErrorEnvelope["error"] };

/** Raised for transport failures (control plane unreachable), never for HTTP errors. */
export class TransportError extends Error {
  override name = "TransportError";
}

export class ExecutorClient {
  readonly url: string;
  private readonly keyId: string;
  private readonly secret: string;
  private readonly doFetch: (input: Request) => Promise<Response>;
  private readonly now: () => number;

  constructor(opts: ExecutorClientOptions) {
    this.url = opts.url.replace(/\/+$/, "");
    this.keyId = opts.keyId;
    this.secret = opts.secret;
    this.doFetch = opts.fetch ?? ((r) => fetch(r));
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Builds a signed request without sending it (tests tamper with these). */
  async signedRequest(path: string, body: unknown, init?: { signal?: AbortSignal }): Promise<Request> {
    const url = `${this.url}${path}`;
    const text = JSON.stringify(body);
    const headers = await signRequest({
      method: "POST",
      url,
      body: text,
      keyId: this.keyId,
      secret: this.secret,
      created: this.now(),
    });
    return new Request(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: text,
      signal: init?.signal,
    });
  }

  private async call<T>(
    path: string,
    body: unknown,
    parse: { parse(v: unknown): T },
    signal?: AbortSignal,
  ): Promise<ApiResult<T>> {
    const req = await this.signedRequest(path, body, { signal });
    let res: Response;
    try {
      res = await this.doFetch(req);
    } catch (err) {
      if ((err as Error)?.name === "AbortError") throw err;
      throw new TransportError(`control plane unreachable at ${this.url}: ${(err as Error)?.message ?? err}`);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      json = undefined;
    }
    if (res.ok) return { ok: true, status: res.status, data: parse.parse(json) };
    const envelope = json as Partial<ErrorEnvelope> | undefined;
    return {
      ok: false,
      status: res.status,
      error: envelope?.error ?? { code: `http_${res.status}`, message: res.statusText || "request failed" },
    };
  }

  claim(body: ClaimRequest, signal?: AbortSignal): Promise<ApiResult<ClaimResponse>> {
    return this.call("/v1/executor/claim", body, ClaimResponse, signal);
  }

  heartbeat(runId: string, body: HeartbeatRequest): Promise<ApiResult<HeartbeatResponse>> {
    return this.call(`/v1/executor/runs/${encodeURIComponent(runId)}/heartbeat`, body, HeartbeatResponse);
  }

  verdict(runId: string, body: VerdictRequest): Promise<ApiResult<VerdictResponse>> {
    return this.call(`/v1/executor/runs/${encodeURIComponent(runId)}/verdict`, body, VerdictResponse);
  }
}
