// The harness registry: claude, opencode, and command harnesses from the executor's config.
import { createClaudeHarness } from "./claude";
import { createCommandHarness } from "./command";
import { createOpencodeHarness } from "./opencode";
import type { CommandHarnessConfig, Harness } from "./types";

export { createClaudeHarness } from "./claude";
export { createCommandHarness, expandTemplate } from "./command";
export { createOpencodeHarness } from "./opencode";
export { processGroupMembers } from "./process";
export type {
  CommandHarnessConfig,
  Harness,
  HarnessInput,
  HarnessResult,
  PreflightInput,
  PreflightResult,
  ProviderConfig,
} from "./types";

export interface HarnessRegistryOptions {
  /** Command harnesses from the config, by name. */
  commandHarnesses?: Record<string, CommandHarnessConfig> | CommandHarnessConfig[];
  /** Binary overrides (default: the pinned npm dependencies). */
  claudeBin?: string;
  opencodeBin?: string;
  /** API retries inside the claude CLI (CLAUDE_CODE_MAX_RETRIES). Default 1. */
  claudeMaxRetries?: number;
}

export const BUILTIN_HARNESSES = ["claude", "opencode"] as const;

/**
 * The harness called `name`: claude, opencode, or a command harness from the config.
 * Throws naming the known harnesses when there is none.
 */
export function getHarness(name: string, options: HarnessRegistryOptions = {}): Harness {
  if (name === "claude")
    return createClaudeHarness({ bin: options.claudeBin, maxRetries: options.claudeMaxRetries });
  if (name === "opencode") return createOpencodeHarness({ bin: options.opencodeBin });
  const list = options.commandHarnesses;
  const commands = Array.isArray(list)
    ? list
    : Object.entries(list ?? {}).map(([n, c]) => ({ ...c, name: c.name ?? n }));
  const config = commands.find((c) => c.name === name);
  if (config) return createCommandHarness(config);
  const known = [...BUILTIN_HARNESSES, ...commands.map((c) => c.name)];
  throw new Error(`unknown harness ${JSON.stringify(name)}; known: ${known.join(", ")}`);
}
