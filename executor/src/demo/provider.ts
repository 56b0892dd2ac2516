// The demo provider: a local Anthropic-compatible Messages API driven by scripts, so the
// whole loop (real claude / opencode CLIs included) runs with no keys and no internet.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { REVIEW_MARKER } from "../review";
import { type DemoFaults, decideFault, type FaultClock, seededRandom } from "./faults";
import {
  blockEvents,
  contentText,
  errorBody,
  estimateTokens,
  type MessagesRequest,
  messageEndEvents,
  messageStartEvent,
  type OutBlock,
  pingEvent,
  type ToolResultBlock,
  toolResultText,
} from "./messages";
import {
  type Conversation,
  DEMO_ANNOUNCE,
  isPreflightPrompt,
  parseDirective,
  reviewerTurn,
  SCRIPTS,
  scriptTurn,
  type Turn,
} from "./scripts";

export const DEMO_MODEL = "demo";

export interface DemoProviderOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Script for conversations without a `<!-- mtor-demo: … -->` directive. Default `default`. */
  script?: string;
  /** Delay before every answer. */
  latencyMs?: number;
  /** retry-after seconds of the `rate_limit` script. Default 120. */
  retryAfterS?: number;
  faults?: DemoFaults;
  /** Keep every request as received (line, headers, body) in `received`: what a test checks for leaks. */
  keepReceived?: boolean;
  /** Injectable clock and seed for fault schedules. */
  now?: () => number;
  seed?: number;
  /** Called with one line per request (the CLI prints them). */
  log?: (line: string) => void;
}

export interface DemoRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  /** The script that answered, or null for requests outside /v1/messages. */
  script: string | null;
  preflight: boolean;
  /** Assistant turns already in the conversation. */
  turn: number;
  model?: string;
  stream?: boolean;
  userAgent?: string;
  /** What the answer was: text, tool_use, error type, hang … */
  answer: string;
}

export interface DemoProvider {
  url: string;
  port: number;
  requests: DemoRequest[];
  /** Every request as received, when `keepReceived` is set: request line, headers and body. */
  received: string[];
  setScript(name: string): void;
  setFaults(faults: DemoFaults | undefined): void;
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

async function readWholeBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "request-id": `req_demo_${randomBytes(6).toString("hex")}`,
    "x-mtor-demo": "scripted",
    ...headers,
  });
  res.end(text);
}

export function startDemoProvider(options: DemoProviderOptions = {}): Promise<DemoProvider> {
  let defaultScript = options.script ?? "default";
  if (!SCRIPTS[defaultScript])
    throw new Error(`unknown demo script ${defaultScript}; known: ${Object.keys(SCRIPTS).join(", ")}`);
  let faults = options.faults;
  const now = options.now ?? Date.now;
  const clock: FaultClock = { now, random: seededRandom(options.seed ?? 1), startedAt: now() };
  const retryAfterS = options.retryAfterS ?? 120;
  const requests: DemoRequest[] = [];
  const received: string[] = [];
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const raw = await readWholeBody(req);
    if (options.keepReceived)
      received.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${raw}`);
    return raw;
  };
  const hanging = new Set<ServerResponse>();

  const record = (entry: Omit<DemoRequest, "at">): void => {
    const full = { at: Date.now(), ...entry };
    requests.push(full);
    options.log?.(
      `${entry.method} ${entry.path} → ${entry.status} ${entry.answer}${entry.script ? ` [script ${entry.script}${entry.preflight ? ", preflight" : ""}, turn ${entry.turn}]` : ""}`,
    );
  };

  async function messages(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    let body: MessagesRequest;
    try {
      body = JSON.parse(raw) as MessagesRequest;
    } catch {
      sendJson(res, 400, errorBody("invalid_request_error", "body is not JSON"));
      record({
        method: "POST",
        path,
        status: 400,
        script: null,
        preflight: false,
        turn: 0,
        answer: "invalid_request_error",
      });
      return;
    }
    const msgs = Array.isArray(body.messages) ? body.messages : [];
    const firstUser = msgs.find((m) => m.role === "user");
    const prompt = contentText(firstUser?.content);
    const directive = parseDirective(prompt);
    const name = directive?.name ?? defaultScript;
    const turn = msgs.filter((m) => m.role === "assistant").length;
    const isPreflight = isPreflightPrompt(prompt);
    const model = body.model ?? DEMO_MODEL;
    const base = {
      method: "POST",
      path,
      script: name,
      preflight: isPreflight,
      turn,
      model,
      stream: body.stream === true,
      userAgent: req.headers["user-agent"],
    };
    // The reviewer's requests get a scripted grade, whatever script the spec asks the worker for.
    const system =
      typeof body.system === "string" ? body.system : (body.system ?? []).map((b) => b.text ?? "").join("");
    const isReviewer = system.includes(REVIEW_MARKER);
    if (isReviewer) base.script = "reviewer";
    const script = SCRIPTS[name];
    if (!script && !isReviewer) {
      const message = `unknown demo script ${name}; known: ${Object.keys(SCRIPTS).join(", ")}`;
      sendJson(res, 400, errorBody("invalid_request_error", message));
      record({ ...base, status: 400, answer: "invalid_request_error" });
      return;
    }

    const conversation: Conversation = {
      prompt,
      isPreflight,
      turn,
      tools: (body.tools ?? []).map((t) => t.name),
      params: directive?.params ?? {},
      retryAfterS,
      toolResults: msgs.flatMap((m) =>
        typeof m.content === "string"
          ? []
          : m.content
              .filter((b) => b.type === "tool_result")
              .map((b) => toolResultText(b as ToolResultBlock)),
      ),
    };
    const fault =
      faults && script && !isReviewer
        ? decideFault(faults, clock, { isPreflight, scriptTurns: script.turns })
        : null;
    await sleep((options.latencyMs ?? 0) + (fault?.delayMs ?? 0));
    if (fault?.kind === "hang") {
      // Silent: no status line, no byte, until the client gives up or close() ends it.
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      record({ ...base, status: 0, answer: "silent" });
      return;
    }

    let answer: Turn;
    if (isReviewer || !script) {
      answer = reviewerTurn(prompt, turn);
    } else if (fault?.kind === "rate_limited") {
      answer = {
        kind: "error",
        status: 429,
        type: "rate_limit_error",
        message: `Rate limit reached for the demo provider; retry after ${fault.retryAfterS} seconds`,
        headers: { "retry-after": String(fault.retryAfterS) },
      };
    } else if (fault?.kind === "overloaded") {
      answer = { kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" };
    } else {
      answer = scriptTurn(script, conversation);
      // Side calls without tools (session titles, summaries) get a short text, not a tool call.
      if (
        answer.kind === "message" &&
        conversation.tools.length === 0 &&
        answer.content.some((b) => b.type === "tool_use")
      ) {
        answer = {
          kind: "message",
          content: [{ type: "text", text: `${DEMO_ANNOUNCE} mtor demo task` }],
          stopReason: "end_turn",
        };
      }
    }

    if (answer.kind === "error") {
      sendJson(res, answer.status, errorBody(answer.type, answer.message), answer.headers);
      record({ ...base, status: answer.status, answer: answer.type });
      return;
    }

    const id = `msg_demo_${randomBytes(8).toString("hex")}`;
    const inputTokens = estimateTokens(raw);
    if (answer.kind === "hang") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-mtor-demo": "scripted",
      });
      res.write(messageStartEvent(id, model, inputTokens));
      res.write(pingEvent());
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      record({ ...base, status: 200, answer: "hang" });
      return;
    }

    const content: OutBlock[] = answer.content;
    const outputTokens = estimateTokens(JSON.stringify(content));
    const kinds =
      content.map((b) => (b.type === "tool_use" ? `tool_use:${b.name}` : "text")).join("+") || "empty";
    if (body.stream === true) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "request-id": `req_demo_${randomBytes(6).toString("hex")}`,
        "x-mtor-demo": "scripted",
      });
      res.write(messageStartEvent(id, model, inputTokens));
      res.write(pingEvent());
      content.forEach((block, i) => {
        for (const ev of blockEvents(i, block)) res.write(ev);
      });
      for (const ev of messageEndEvents(answer.stopReason, outputTokens)) res.write(ev);
      res.end();
    } else {
      sendJson(res, 200, {
        id,
        type: "message",
        role: "assistant",
        model,
        content,
        stop_reason: answer.stopReason,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: outputTokens },
      });
    }
    record({ ...base, status: 200, answer: `${kinds} ${answer.stopReason}` });
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://demo").pathname;
    const method = req.method ?? "GET";
    const handle = async (): Promise<void> => {
      if (method === "POST" && path === "/v1/messages") return messages(req, res, path);
      if (method === "POST" && path === "/v1/messages/count_tokens") {
        const raw = await readBody(req);
        sendJson(res, 200, { input_tokens: estimateTokens(raw) });
        record({
          method,
          path,
          status: 200,
          script: null,
          preflight: false,
          turn: 0,
          answer: "count_tokens",
        });
        return;
      }
      const modelInfo = {
        type: "model",
        id: DEMO_MODEL,
        display_name: `mtor demo ${DEMO_ANNOUNCE}`,
        created_at: "2026-01-01T00:00:00Z",
      };
      if (method === "GET" && path === "/v1/models") {
        sendJson(res, 200, { data: [modelInfo], has_more: false, first_id: DEMO_MODEL, last_id: DEMO_MODEL });
        record({ method, path, status: 200, script: null, preflight: false, turn: 0, answer: "models" });
        return;
      }
      if (method === "GET" && path.startsWith("/v1/models/")) {
        sendJson(res, 200, { ...modelInfo, id: decodeURIComponent(path.slice("/v1/models/".length)) });
        record({ method, path, status: 200, script: null, preflight: false, turn: 0, answer: "model" });
        return;
      }
      if ((method === "GET" || method === "HEAD") && (path === "/" || path === "/healthz")) {
        res.writeHead(200, { "content-type": "text/plain", "x-mtor-demo": "scripted" });
        res.end(method === "HEAD" ? undefined : `mtor demo provider ${DEMO_ANNOUNCE}\n`);
        record({ method, path, status: 200, script: null, preflight: false, turn: 0, answer: "health" });
        return;
      }
      await readBody(req);
      sendJson(res, 404, errorBody("not_found_error", `the demo provider does not serve ${method} ${path}`));
      record({
        method,
        path,
        status: 404,
        script: null,
        preflight: false,
        turn: 0,
        answer: "not_found_error",
      });
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody("api_error", `demo provider: ${String(err)}`));
      else res.destroy();
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      const host = options.host ?? "127.0.0.1";
      resolve({
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        port,
        requests,
        received,
        setScript(name) {
          if (!SCRIPTS[name])
            throw new Error(`unknown demo script ${name}; known: ${Object.keys(SCRIPTS).join(", ")}`);
          defaultScript = name;
        },
        setFaults(next) {
          faults = next;
        },
        close() {
          return new Promise<void>((done) => {
            for (const res of hanging) res.destroy();
            hanging.clear();
            server.close(() => done());
            server.closeAllConnections();
          });
        },
      });
    });
  });
}
