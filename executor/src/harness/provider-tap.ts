// A loopback relay between a harness and its provider. It forwards every request unchanged and
// sees every answer's status and retry-after, so mtor can fail fast and classify provider
// errors even for CLIs that retry forever (opencode) or print nothing useful (command harnesses).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { Failure } from "@mtor/schema";
import { DEFAULT_RETRY_AFTER_S } from "./classify";

export interface TapOptions {
  /** The provider's base URL, e.g. https://open.bigmodel.cn/api/anthropic */
  upstream: string;
  /**
   * Provider errors (5xx, 529, connection failures) let through before the tap calls it a
   * failure; the harness's own retries count. 429 and 401/403 fail at once.
   */
  maxErrors?: number;
  /** Called once, with the failure, when the provider has failed the run. */
  onFailure: (failure: Failure) => void;
  /** No request goes upstream before this settles; none at all when it rejects. */
  holdUntil?: Promise<unknown>;
}

export interface ProviderTap {
  /** The base URL to hand the harness instead of the provider's. */
  url: string;
  failure: Failure | null;
  /** Status codes seen, in order (0 = could not connect). */
  statuses: number[];
  /** How long the first request waited for `holdUntil` (0 when it did not wait). */
  readonly heldMs: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "te",
  "trailer",
]);

/** retry-after (seconds or an HTTP date) or retry-after-ms, in whole seconds. */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Math.ceil(Number(ms) / 1000));
  const ra = headers.get("retry-after");
  if (!ra) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Math.ceil(Number(ra)));
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string; type?: string }; message?: string };
    return j.error?.message ?? j.message ?? body;
  } catch {
    return body;
  }
}

export function startProviderTap(options: TapOptions): Promise<ProviderTap> {
  const upstream = options.upstream.replace(/\/+$/, "");
  const maxErrors = options.maxErrors ?? 1;
  const statuses: number[] = [];
  let failure: Failure | null = null;
  let errors = 0;
  const open = new Set<ServerResponse>();
  // When the hold settles, and when the first request came: how long that request waited.
  let releasedAt: number | undefined;
  let firstAt: number | undefined;
  const released = () => {
    releasedAt = performance.now();
  };
  options.holdUntil?.then(released, released);

  const fail = (f: Failure): void => {
    if (failure) return;
    failure = f;
    options.onFailure(f);
  };

  const relay = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    firstAt ??= performance.now();
    const body = await readBody(req);
    if (options.holdUntil) {
      const held = await options.holdUntil.then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
      if (held !== undefined) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            type: "error",
            error: { type: "api_error", message: `mtor: the request was held and then refused: ${held}` },
          }),
        );
        return;
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k.toLowerCase()) || k.toLowerCase() === "accept-encoding")
        continue;
      headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    let answer: Response;
    try {
      answer = await fetch(`${upstream}${req.url ?? "/"}`, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(body),
        signal: controller.signal,
        redirect: "manual",
      });
    } catch (err) {
      if (controller.signal.aborted) return;
      statuses.push(0);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const what = cause?.code ?? cause?.message ?? String(err);
      errors += 1;
      if (errors > maxErrors)
        fail({ kind: "provider", message: `cannot reach the provider at ${upstream}: ${what}` });
      res.writeHead(502, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "error",
          error: { type: "api_error", message: `mtor: cannot reach the provider: ${what}` },
        }),
      );
      return;
    }

    statuses.push(answer.status);
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      // fetch already decoded the body, so its encoding and length no longer apply
      if (!HOP_BY_HOP.has(k) && k !== "content-encoding") out[k] = v;
    });

    if (answer.status >= 400) {
      const text = await answer.text().catch(() => "");
      const msg = errorText(text).slice(0, 300);
      const s = answer.status;
      if (s === 429) {
        fail({
          kind: "rate_limited",
          message: `provider answered 429 rate limited: ${msg}`,
          retry_after_s: Math.min(86400, retryAfterSeconds(answer.headers) ?? DEFAULT_RETRY_AFTER_S),
        });
      } else if (s === 401 || s === 403) {
        fail({ kind: "auth", message: `provider refused the credentials (${s}): ${msg}` });
      } else if (s >= 500) {
        errors += 1;
        const what = s === 529 ? "529 overloaded" : String(s);
        if (errors > maxErrors) fail({ kind: "provider", message: `provider answered ${what}: ${msg}` });
      }
      res.writeHead(s, out);
      res.end(text);
      return;
    }

    errors = 0;
    res.writeHead(answer.status, out);
    if (!answer.body) {
      res.end();
      return;
    }
    open.add(res);
    const stream = Readable.fromWeb(answer.body as import("node:stream/web").ReadableStream<Uint8Array>);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
    res.on("close", () => {
      open.delete(res);
      stream.destroy();
    });
  };

  const server = createServer((req, res) => {
    relay(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            type: "error",
            error: { type: "api_error", message: `mtor tap: ${String(err)}` },
          }),
        );
      } else res.destroy();
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        get failure() {
          return failure;
        },
        statuses,
        get heldMs() {
          if (firstAt === undefined || releasedAt === undefined) return 0;
          return Math.max(0, Math.round(releasedAt - firstAt));
        },
        close: () =>
          new Promise<void>((done) => {
            for (const res of open) res.destroy();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
