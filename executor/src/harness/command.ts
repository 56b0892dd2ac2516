// Command harnesses: any agent CLI from an argv template in the executor's config, e.g.
// ["goose", "run", "-t", "{prompt}"], talking to the provider through mtor's tap.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { baseEnv } from "./env";
import { exitFailure, preflightVerdict, toResult } from "./outcome";
import { preflightRun, runTapped } from "./tapped";
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

  // A preflight tolerates no provider error: it fails the run at once, no retry loop.
  async function exec(
    input: HarnessInput,
    preflight = false,
  ): Promise<{ result: HarnessResult; stdout: string }> {
    const model = input.model || input.provider.model;
    const { p, failure: processFailed } = await runTapped({
      input,
      harness: config.name,
      maxErrors: preflight ? 0 : (options.maxProviderErrors ?? 1),
      spawn: async (baseUrl) => {
        const dir = join(input.home, ".mtor");
        await mkdir(dir, { recursive: true });
        const promptFile = join(dir, "prompt.md");
        await writeFile(promptFile, input.prompt, { mode: 0o600 });
        const { argv, promptOnStdin } = expandTemplate(config.command, {
          prompt: input.prompt,
          promptFile,
          model,
          baseUrl,
        });
        return {
          command: argv[0],
          args: argv.slice(1),
          env: {
            ...baseEnv(input),
            MTOR_MODEL: model,
            [config.baseUrlEnv ?? "ANTHROPIC_BASE_URL"]: baseUrl,
            [config.tokenEnv ?? "ANTHROPIC_API_KEY"]: input.provider.token,
          },
          stdin: promptOnStdin ? input.prompt : undefined,
        };
      },
    });
    let failure = processFailed;
    if (!failure && p.exitCode !== 0) failure = exitFailure(p, config.name);
    return { result: toResult(p, failure), stdout: p.stdout };
  }

  return {
    name: config.name,
    async run(input) {
      return (await exec(input)).result;
    },
    async preflight(input): Promise<PreflightResult> {
      const { result, stdout } = await exec(preflightRun(input), true);
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
