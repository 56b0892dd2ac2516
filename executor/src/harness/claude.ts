// The `claude` harness: the real Claude Code CLI in bare print mode with JSON output.
import type { Usage } from "@mtor/schema";
import { resolvePackageBin } from "./bin";
import { classifyMissingKey, classifyProviderError } from "./classify";
import { baseEnv } from "./env";
import { readableLog } from "./log";
import { exitFailure, preflightVerdict, toResult } from "./outcome";
import { preflightRun, runTapped } from "./tapped";
import type { Harness, HarnessInput, HarnessResult, PreflightResult } from "./types";

/** Tools the agent may use without asking; web tools stay off (providers only, no browsing). */
export const CLAUDE_TOOLS = ["Bash", "Edit", "Write", "Read", "Glob", "Grep", "NotebookEdit", "TodoWrite"];

export interface ClaudeHarnessOptions {
  /** Path of the `claude` binary; default: the pinned @anthropic-ai/claude-code dependency. */
  bin?: string;
  /** CLAUDE_CODE_MAX_RETRIES: API retries inside the CLI. Default 1, so a dead provider fails fast. */
  maxRetries?: number;
  tools?: string[];
  /** Relay provider traffic through mtor's tap (default true) to read real statuses and retry-after. */
  tap?: boolean;
}

/** The argv after the binary; the prompt goes on stdin. */
export function claudeArgs(model: string, tools: string[] = CLAUDE_TOOLS): string[] {
  return [
    "--bare",
    "--print",
    "--output-format",
    "json",
    "--model",
    model,
    "--allowedTools",
    tools.join(" "),
    "--no-session-persistence",
  ];
}

/** The cleared environment of a claude run: the allowlist plus provider and quiet switches. */
export function claudeEnv(
  input: Pick<HarnessInput, "home" | "gitIdentity" | "provider" | "model">,
  maxRetries = 1,
): Record<string, string> {
  const model = input.model || input.provider.model;
  return {
    ...baseEnv(input),
    CLAUDE_CONFIG_DIR: `${input.home}/.claude`,
    ANTHROPIC_BASE_URL: input.provider.baseUrl,
    // --bare reads only ANTHROPIC_API_KEY; gateways such as ZhiPu document ANTHROPIC_AUTH_TOKEN.
    ANTHROPIC_API_KEY: input.provider.token,
    ANTHROPIC_AUTH_TOKEN: input.provider.token,
    ANTHROPIC_MODEL: model,
    // Every side call (titles, summaries, sub-agents) goes to the same provider model.
    ANTHROPIC_SMALL_FAST_MODEL: model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: model,
    CLAUDE_CODE_SUBAGENT_MODEL: model,
    CLAUDE_CODE_MAX_RETRIES: String(maxRetries),
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_BUG_COMMAND: "1",
    DISABLE_COST_WARNINGS: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: "1",
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: "1",
    CLAUDE_CODE_DISABLE_AUTO_MEMORY: "1",
  };
}

/** The `--output-format json` result object, as far as mtor reads it. */
export interface ClaudeJsonResult {
  type: "result";
  subtype?: string;
  is_error?: boolean;
  api_error_status?: number | null;
  result?: string;
  num_turns?: number;
  total_cost_usd?: number;
  usage?: {
    input_tokens?: number;
    output_tokens?: number;
    cache_creation_input_tokens?: number;
    cache_read_input_tokens?: number;
  };
}

/** The last line of stdout that is claude's JSON result, if any. */
export function parseClaudeResult(stdout: string): ClaudeJsonResult | null {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const obj = JSON.parse(lines[i]) as { type?: unknown };
      if (obj && obj.type === "result") return obj as ClaudeJsonResult;
    } catch {
      // not JSON: keep looking
    }
  }
  return null;
}

/**
 * The log a person reads: the output before the answer, then the answer's text. The tail may
 * have cut the answer's JSON line short, so the parsed answer replaces whatever is left of it.
 */
export function claudeLog(tail: string, json: ClaudeJsonResult | null): string {
  if (!json) return readableLog(tail);
  const before = tail.split("\n").filter((l) => !l.includes('"type":"result"'));
  return readableLog([...before, JSON.stringify(json)].join("\n"));
}

export function claudeUsage(r: ClaudeJsonResult): Usage {
  const u = r.usage ?? {};
  const int = (n: number | undefined) => Math.max(0, Math.round(n ?? 0));
  return {
    input_tokens: int(u.input_tokens) + int(u.cache_creation_input_tokens) + int(u.cache_read_input_tokens),
    output_tokens: int(u.output_tokens),
    cost_usd: Math.max(0, r.total_cost_usd ?? 0),
    turns: int(r.num_turns),
  };
}

export function createClaudeHarness(options: ClaudeHarnessOptions = {}): Harness {
  const bin = options.bin ?? resolvePackageBin("@anthropic-ai/claude-code", "claude");
  const maxRetries = options.maxRetries ?? 1;

  // A preflight tolerates no provider error: it fails the run at once, no retry loop.
  async function exec(
    input: HarnessInput,
    preflight = false,
  ): Promise<{ result: HarnessResult; json: ClaudeJsonResult | null }> {
    const model = input.model || input.provider.model;
    const { p, failure: processFailed } = await runTapped({
      input,
      harness: "claude",
      maxErrors: preflight ? 0 : maxRetries,
      tap: options.tap,
      spawn: async (baseUrl) => ({
        command: bin,
        args: claudeArgs(model, options.tools),
        env: claudeEnv({ ...input, provider: { ...input.provider, baseUrl } }, maxRetries),
        stdin: input.prompt,
      }),
    });
    const json = parseClaudeResult(p.stdout);
    const usage = json ? claudeUsage(json) : undefined;
    let failure = processFailed;
    if (!failure && json?.is_error) {
      const text = json.result ?? json.subtype ?? "error";
      failure = classifyMissingKey(text, input.provider.name) ??
        classifyProviderError(text, json.api_error_status ?? undefined) ?? {
          kind: "harness",
          message: `claude ended with an error (${json.subtype ?? "error"}): ${text.slice(0, 500)}`,
        };
    }
    if (!failure && !json)
      failure =
        classifyMissingKey(p.stderr || p.tail, input.provider.name) ??
        classifyProviderError(p.stderr || p.tail) ??
        exitFailure(p, "claude");
    if (!failure && p.exitCode !== 0) failure = exitFailure(p, "claude");
    return {
      result: { ...toResult(p, failure, usage ? { usage } : {}), logTail: claudeLog(p.tail, json) },
      json,
    };
  }

  return {
    name: "claude",
    async run(input) {
      return (await exec(input)).result;
    },
    async preflight(input): Promise<PreflightResult> {
      const { result, json } = await exec(preflightRun(input), true);
      return preflightVerdict(result, json?.result);
    },
  };
}
