// Which model providers the local stack serves: one per API key found in the environment, or,
// with none, the built-in scripted `demo` provider.
import type { Env } from "../http/settings";

export interface LocalProvider {
  name: string;
  baseUrl: string;
  model: string;
  harness: string;
  /** The environment variable holding its key (passed through to the executor). */
  tokenEnv: string;
}

/** Known providers, by the environment variable that holds their key. */
export const ENV_PROVIDERS: readonly (LocalProvider & { doc: string })[] = [
  {
    name: "zhipu",
    tokenEnv: "ZHIPU_API_KEY",
    baseUrl: "https://open.bigmodel.cn/api/anthropic",
    model: "glm-5.1",
    harness: "claude",
    doc: "GLM through ZhiPu",
  },
  {
    name: "anthropic",
    tokenEnv: "ANTHROPIC_API_KEY",
    baseUrl: "https://api.anthropic.com",
    model: "claude-haiku-4-5",
    harness: "claude",
    doc: "Anthropic",
  },
  {
    name: "deepseek",
    tokenEnv: "DEEPSEEK_API_KEY",
    baseUrl: "https://api.deepseek.com/anthropic",
    model: "deepseek-chat",
    harness: "claude",
    doc: "DeepSeek",
  },
  {
    name: "moonshot",
    tokenEnv: "MOONSHOT_API_KEY",
    baseUrl: "https://api.moonshot.ai/anthropic",
    model: "kimi-k2-turbo-preview",
    harness: "claude",
    doc: "Kimi through Moonshot",
  },
];

export const DEMO_TOKEN_ENV = "MTOR_DEMO_PROVIDER_TOKEN";

/**
 * Providers whose key is set. `MTOR_PROVIDER_MODEL_<NAME>` overrides a model, and
 * `MTOR_DEMO=1` ignores every key (the demo provider only).
 */
export function providersFromEnv(env: Env): LocalProvider[] {
  if (env.MTOR_DEMO === "1") return [];
  return ENV_PROVIDERS.filter((p) => (env[p.tokenEnv] ?? "").trim() !== "").map(({ doc: _doc, ...p }) => ({
    ...p,
    model: env[`MTOR_PROVIDER_MODEL_${p.name.toUpperCase()}`] || p.model,
  }));
}

export function demoProvider(url: string): LocalProvider {
  return { name: "demo", baseUrl: url, model: "demo", harness: "claude", tokenEnv: DEMO_TOKEN_ENV };
}
