// Command harnesses: any agent CLI from an argv template in the executor's config, e.g.
// ["goose", "run", "-t", "{prompt}"], talking to the provider through mtor's tap.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Failure } from "@mtor/schema";
import { PREFLIGHT_PROMPT } from "../prompt";
import { baseEnv } from "./env";
import { exitFailure, PREFLIGHT_TIMEOUT_MS, preflightVerdict, processFailure, toResult } from "./outcome";
import { runProcess } from "./process";
import { startProviderTap } from "./provider-tap";
import type { CommandHarnessConfig, Harness, HarnessInput, HarnessResult, PreflightResult } from "./types";

export const PLACEHOLDERS = ["{prompt}", "{prompt_file}", "{model}", "{base_url}"] as const;

/**
 * Fills a template. Without {prompt} or {prompt_file} anywhere, the prompt goes on stdin.
 * Placeholders are replaced inside each argument; arguments are never split or re-quoted.
 */
export function expandTemplate(
  command: readonly string[],
  values: { prompt: string; promptFile: string; model: string; baseUrl: string },
): { argv: string[]; promptOnStdin: boolean } {
  const promptOnStdin = !command.some((a) => a.includes("{prompt}") || a.includes("{prompt_file}"));
  const argv = command.map((arg) =>
    arg.replace(/\{(prompt|prompt_file|model|base_url)\}/g, (_, key: string) => {
      if (key === "prompt") return values.prompt;
      if (key === "prompt_file") return values.promptFile;
      if (key === "model") return values.model;
      return values.baseUrl;
    }),
  );
  return { argv, promptOnStdin };
}

export interface CommandHarnessOptions {
  /** Provider errors (5xx, 529, unreachable) tolerated before the run fails. Default 1. */
  maxProviderErrors?: number;
}

export function createCommandHarness(
  config: CommandHarnessConfig,
  options: CommandHarnessOptions = {},
): Harness {
  if (config.command.length === 0)
    throw new Error(`command harness ${config.name}: command must not be empty`);

  // A preflight tolerates no provider error: design §8 wants it to fail at once, no retry loop.
  async function exec(
    input: HarnessInput,
    preflight = false,
  ): Promise<{ result: HarnessResult; stdout: string }> {
    const model = input.model || input.provider.model;
    const stop = new AbortController();
    let tapFailure: Failure | null = null;
    const tap = await startProviderTap({
      upstream: input.provider.baseUrl,
      maxErrors: preflight ? 0 : (options.maxProviderErrors ?? 1),
      onFailure: (f) => {
        tapFailure = f;
        stop.abort();
      },
    });
    try {
      const dir = join(input.home, ".mtor");
      await mkdir(dir, { recursive: true });
      const promptFile = join(dir, "prompt.md");
      await writeFile(promptFile, input.prompt, { mode: 0o600 });
      const { argv, promptOnStdin } = expandTemplate(config.command, {
        prompt: input.prompt,
        promptFile,
        model,
        baseUrl: tap.url,
      });
      const env: Record<string, string> = {
        ...baseEnv(input),
        MTOR_MODEL: model,
        [config.baseUrlEnv ?? "ANTHROPIC_BASE_URL"]: tap.url,
        [config.tokenEnv ?? "ANTHROPIC_API_KEY"]: input.provider.token,
      };
      const signal = input.signal ? AbortSignal.any([input.signal, stop.signal]) : stop.signal;
      const p = await runProcess({
        command: argv[0],
        args: argv.slice(1),
        cwd: input.cwd,
        env,
        stdin: promptOnStdin ? input.prompt : undefined,
        timeoutMs: input.timeoutMs,
        signal,
        onOutput: input.onOutput,
      });
      let failure: Failure | null;
      if (p.spawnError || input.signal?.aborted) failure = processFailure(p, config.name, input.timeoutMs);
      else failure = tapFailure ?? processFailure(p, config.name, input.timeoutMs);
      if (!failure && p.exitCode !== 0) failure = exitFailure(p, config.name);
      return { result: toResult(p, failure), stdout: p.stdout };
    } finally {
      await tap.close();
    }
  }

  return {
    name: config.name,
    async run(input) {
      return (await exec(input)).result;
    },
    async preflight(input): Promise<PreflightResult> {
      const { result, stdout } = await exec(
        {
          ...input,
          prompt: input.prompt ?? PREFLIGHT_PROMPT,
          timeoutMs: Math.min(input.timeoutMs ?? PREFLIGHT_TIMEOUT_MS, PREFLIGHT_TIMEOUT_MS),
        },
        true,
      );
      // CLIs print banners: the answer is the last non-empty line.
      const last =
        stdout
          .split("\n")
          .filter((l) => l.trim() !== "")
          .at(-1) ?? "";
      return preflightVerdict(result, last);
    },
  };
}
