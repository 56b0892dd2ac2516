// The harness registry: claude, opencode, and command harnesses from the executor's config.
import { createClaudeHarness } from "./claude";
import type { CommandHarnessConfig, Harness } from "./types";

export type { CommandHarnessConfig, Harness, HarnessInput, HarnessResult, PreflightInput, PreflightResult, ProviderConfig } from "./types";
export { createClaudeHarness } from "./claude";
export { processGroupMembers } from "./process";

export interface HarnessRegistryOptions {
  /** Command harnesses from the config, by name. */
  commandHarnesses?: Record<string, CommandHarnessConfig> | CommandHarnessConfig[];
  /** Binary overrides (default: the pinned npm dependencies). */
  claudeBin?: string;
  opencodeBin?: string;
  /** API retries inside the claude CLI (CLAUDE_CODE_MAX_RETRIES). Default 1. */
  claudeMaxRetries?: number;
}

export const BUILTIN_HARNESSES = ["claude"] as const;

/** The harness called `name`; throws with the known names when there is none. */
export function getHarness(name: string, options: HarnessRegistryOptions = {}): Harness {
  if (name === "claude") return createClaudeHarness({ bin: options.claudeBin, maxRetries: options.claudeMaxRetries });
  throw new Error(`unknown harness ${JSON.stringify(name)}; known: ${BUILTIN_HARNESSES.join(", ")}`);
}
