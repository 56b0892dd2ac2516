// The slice of the Anthropic Messages API the demo provider speaks: request shapes, response
// blocks and the server-sent events of a streamed answer.

export interface TextBlock {
  type: "text";
  text: string;
}
export interface ToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface ToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content?: string | Array<{ type: string; text?: string }>;
  is_error?: boolean;
}
export type ContentBlock =
  | TextBlock
  | ToolUseBlock
  | ToolResultBlock
  | { type: string; [key: string]: unknown };

export interface Message {
  role: "user" | "assistant";
  content: string | ContentBlock[];
}

export interface MessagesRequest {
  model?: string;
  messages?: Message[];
  system?: string | Array<{ type: string; text?: string }>;
  tools?: Array<{ name: string }>;
  stream?: boolean;
  max_tokens?: number;
}

export type OutBlock = TextBlock | ToolUseBlock;
export type StopReason = "end_turn" | "tool_use";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** The plain text of a message's content (text blocks and tool results). */
export function contentText(content: Message["content"] | undefined): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  const out: string[] = [];
  for (const block of content) {
    if (block.type === "text" && typeof block.text === "string") out.push(block.text);
    if (block.type === "tool_result") out.push(toolResultText(block as ToolResultBlock));
  }
  return out.join("\n");
}

export function toolResultText(block: ToolResultBlock): string {
  const c = block.content;
  if (c === undefined) return "";
  if (typeof c === "string") return c;
  return c.map((p) => (typeof p.text === "string" ? p.text : "")).join("\n");
}

/** Rough token count: the demo bills about four characters per token. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function chunks(text: string, size: number): string[] {
  if (text === "") return [];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export function messageStartEvent(id: string, model: string, inputTokens: number): string {
  return sse("message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: inputTokens,
        output_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
  });
}

export function pingEvent(): string {
  return sse("ping", { type: "ping" });
}

/** The events of one content block: start, deltas, stop. */
export function blockEvents(index: number, block: OutBlock): string[] {
  const out: string[] = [];
  if (block.type === "text") {
    out.push(
      sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      }),
    );
    for (const piece of chunks(block.text, 24)) {
      out.push(
        sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: piece },
        }),
      );
    }
  } else {
    out.push(
      sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      }),
    );
    for (const piece of chunks(JSON.stringify(block.input), 64)) {
      out.push(
        sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: piece },
        }),
      );
    }
  }
  out.push(sse("content_block_stop", { type: "content_block_stop", index }));
  return out;
}

export function messageEndEvents(stopReason: StopReason, outputTokens: number): string[] {
  return [
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    }),
    sse("message_stop", { type: "message_stop" }),
  ];
}

export function errorBody(
  type: string,
  message: string,
): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type, message } };
}
