// The `opencode` harness: the real `opencode run` with a generated per-run config, in an
// isolated HOME, talking to the provider through mtor's tap (opencode itself retries forever).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Usage } from "@mtor/schema";
import { resolvePackageBin } from "./bin";
import { classifyProviderError } from "./classify";
import { baseEnv } from "./env";
import { exitFailure, preflightVerdict, toResult } from "./outcome";
import { preflightRun, runTapped } from "./tapped";
import type { Harness, HarnessInput, HarnessResult, PreflightResult } from "./types";

/** The provider id mtor gives the provider in the generated config. */
export const OPENCODE_PROVIDER_ID = "mtor";

export interface OpencodeHarnessOptions {
  /** Path of the `opencode` binary; default: the pinned opencode-ai dependency. */
  bin?: string;
  /** Provider errors (5xx, 529, unreachable) tolerated before the run fails. Default 1. */
  maxProviderErrors?: number;
}

/** The per-run opencode.json: one Anthropic-compatible provider, edits and bash allowed. */
export function opencodeConfig(baseUrl: string, model: string): Record<string, unknown> {
  return {
    provider: {
      [OPENCODE_PROVIDER_ID]: {
        npm: "@ai-sdk/anthropic",
        name: "mtor provider",
        // The Anthropic SDK's base URL includes /v1; the token comes from the env, not the file.
        options: { baseURL: `${baseUrl.replace(/\/+$/, "")}/v1`, apiKey: "{env:ANTHROPIC_API_KEY}" },
        models: { [model]: { name: model } },
      },
    },
    model: `${OPENCODE_PROVIDER_ID}/${model}`,
    small_model: `${OPENCODE_PROVIDER_ID}/${model}`,
    autoupdate: false,
    share: "disabled",
    snapshot: false,
    permission: { edit: "allow", bash: "allow", webfetch: "deny" },
  };
}

/** The argv after the binary; the prompt goes on stdin. */
export function opencodeArgs(model: string): string[] {
  return [
    "run",
    "--pure",
    "--format",
    "json",
    "--title",
    "mtor run",
    "--model",
    `${OPENCODE_PROVIDER_ID}/${model}`,
  ];
}

export function opencodeEnv(
  input: Pick<HarnessInput, "home" | "gitIdentity" | "provider">,
  configPath: string,
): Record<string, string> {
  return {
    ...baseEnv(input),
    OPENCODE_CONFIG: configPath,
    ANTHROPIC_API_KEY: input.provider.token,
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
    OPENCODE_DISABLE_EXTERNAL_SKILLS: "1",
    OPENCODE_DISABLE_CLAUDE_CODE: "1",
    OPENCODE_DISABLE_TERMINAL_TITLE: "1",
    OPENCODE_DISABLE_PROJECT_CONFIG: "1",
  };
}

interface OpencodeEvent {
  type?: string;
  part?: {
    type?: string;
    text?: string;
    tokens?: {
      input?: number;
      output?: number;
      reasoning?: number;
      cache?: { read?: number; write?: number };
    };
    cost?: number;
  };
  error?: { name?: string; data?: { message?: string; statusCode?: number } };
}

export interface OpencodeOutput {
  /** Text parts, in order. */
  texts: string[];
  usage: Usage;
  error: { message: string; status?: number } | null;
}

/** Reads `--format json` events: text, usage summed over steps, the last error. */
export function parseOpencodeEvents(stdout: string): OpencodeOutput {
  const texts: string[] = [];
  const usage: Usage = { input_tokens: 0, output_tokens: 0, cost_usd: 0, turns: 0 };
  let error: OpencodeOutput["error"] = null;
  for (const line of stdout.split("\n")) {
    const l = line.trim();
    if (!l.startsWith("{")) continue;
    let ev: OpencodeEvent;
    try {
      ev = JSON.parse(l) as OpencodeEvent;
    } catch {
      continue;
    }
    if (ev.type === "text" && typeof ev.part?.text === "string") texts.push(ev.part.text);
    if (ev.type === "step_finish" && ev.part) {
      const t = ev.part.tokens ?? {};
      usage.input_tokens += Math.round((t.input ?? 0) + (t.cache?.read ?? 0) + (t.cache?.write ?? 0));
      usage.output_tokens += Math.round((t.output ?? 0) + (t.reasoning ?? 0));
      usage.cost_usd += Math.max(0, ev.part.cost ?? 0);
      usage.turns += 1;
    }
    if (ev.type === "error" && ev.error) {
      error = {
        message: ev.error.data?.message ?? ev.error.name ?? "error",
        status: ev.error.data?.statusCode,
      };
    }
  }
  return { texts, usage, error };
}

export function createOpencodeHarness(options: OpencodeHarnessOptions = {}): Harness {
  const bin = options.bin ?? resolvePackageBin("opencode-ai", "opencode");

  // A preflight tolerates no provider error: it fails the run at once, no retry loop.
  async function exec(
    input: HarnessInput,
    preflight = false,
  ): Promise<{ result: HarnessResult; out: OpencodeOutput }> {
    const model = input.model || input.provider.model;
    const { p, failure: processFailed } = await runTapped({
      input,
      harness: "opencode",
      maxErrors: preflight ? 0 : (options.maxProviderErrors ?? 1),
      spawn: async (baseUrl) => {
        const configDir = join(input.home, ".config", "mtor-opencode");
        await mkdir(configDir, { recursive: true });
        const configPath = join(configDir, "opencode.json");
        await writeFile(configPath, `${JSON.stringify(opencodeConfig(baseUrl, model), null, 2)}\n`, {
          mode: 0o600,
        });
        return {
          command: bin,
          args: opencodeArgs(model),
          env: opencodeEnv(input, configPath),
          stdin: input.prompt,
        };
      },
    });
    const out = parseOpencodeEvents(p.stdout);
    let failure = processFailed;
    if (!failure && out.error) {
      failure =
        classifyProviderError(out.error.message, out.error.status) ??
        ({
          kind: "harness",
          message: `opencode reported an error: ${out.error.message.slice(0, 500)}`,
        } as const);
    }
    if (!failure && p.exitCode !== 0) failure = classifyProviderError(p.stderr) ?? exitFailure(p, "opencode");
    const usage = out.usage.turns > 0 ? { usage: out.usage } : {};
    return { result: toResult(p, failure, usage), out };
  }

  return {
    name: "opencode",
    async run(input) {
      return (await exec(input)).result;
    },
    async preflight(input): Promise<PreflightResult> {
      const { result, out } = await exec(preflightRun(input), true);
      return preflightVerdict(result, out.texts.filter((t) => t.trim() !== "").at(-1) ?? "");
    },
  };
}
