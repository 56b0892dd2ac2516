// The contract between the executor's run pipeline and a harness adapter (claude, opencode,
// command templates). Adapters own preflight, the run and output parsing.
import type { Failure, Usage } from "@mtor/schema";
import type { SandboxRun } from "./process";

/** A provider as the executor's config describes it; secrets stay on this box. */
export interface ProviderConfig {
  name: string;
  /** Anthropic-compatible base URL, e.g. https://open.bigmodel.cn/api/anthropic */
  baseUrl: string;
  /** The API token itself (already read from `token_env`). */
  token: string;
  model: string;
  harness: string;
}

/** A command harness from the config: argv template with {prompt}, {model}, {base_url}. */
export interface CommandHarnessConfig {
  name: string;
  command: string[];
  /** Extra env names passed through from the provider (token goes in as this name). */
  tokenEnv?: string;
  baseUrlEnv?: string;
}

export interface HarnessInput {
  /** The worktree the agent edits and commits in. */
  cwd: string;
  prompt: string;
  provider: ProviderConfig;
  model: string;
  /** A per-run directory used as HOME (and for generated config); created by the caller. */
  home: string;
  timeoutMs: number;
  /** Aborting kills the harness's whole process group. */
  signal?: AbortSignal;
  /** Git identity for the agent's commits. */
  gitIdentity?: { name: string; email: string };
  /** Called with output as it arrives (for log tails and progress). */
  onOutput?: (chunk: string) => void;
  /** The sandbox the CLI runs in; without it the CLI runs as the executor's own child. */
  sandbox?: SandboxRun;
  /**
   * The CLI may start at once, but no request of its reaches the provider before this settles
   * (the tap holds them; without the tap the CLI starts only then). The model acts only through
   * the provider's answers, so nothing it asks for happens before. Rejected: no request is sent.
   */
  holdUntil?: Promise<unknown>;
}

export interface HarnessResult {
  ok: boolean;
  /** Set when ok is false: the right failure.kind for the verdict. */
  failure?: Failure;
  usage?: Usage;
  exitCode: number | null;
  /** The last ~8 KiB of combined output. */
  logTail: string;
  durationMs: number;
  /** The process group the harness ran in; empty (every member killed) when run() returns. */
  pgid?: number;
  /** Part of durationMs: how long its first provider request waited on `holdUntil`. */
  heldMs?: number;
}

export type PreflightResult =
  | { ok: true; durationMs: number }
  | { ok: false; failure: Failure; durationMs: number };

export type PreflightInput = Omit<HarnessInput, "prompt" | "timeoutMs"> & {
  /** Default and cap 60 s. */
  timeoutMs?: number;
  /**
   * Default PREFLIGHT_PROMPT. Pass `buildPreflightPrompt(spec.body)` so a spec's
   * `<!-- mtor-demo: … -->` directive reaches the demo provider's preflight too.
   */
  prompt?: string;
};

export interface Harness {
  readonly name: string;
  /** The harness's own binary, same flags and env as the real run, asked to reply `ok` (≤ 60 s). */
  preflight(input: PreflightInput): Promise<PreflightResult>;
  run(input: HarnessInput): Promise<HarnessResult>;
}
