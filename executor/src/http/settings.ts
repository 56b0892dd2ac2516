// Where the CLI finds the control plane and its operator token: flags, then MTOR_URL and
// MTOR_TOKEN, then ~/.config/mtor/config.toml (which `mtor up` writes for the local stack).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";

export interface OperatorSettings {
  url: string;
  token: string | undefined;
  /** Where each value came from, for error messages. */
  source: { url: string; token: string };
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** `$XDG_CONFIG_HOME/mtor/config.toml`, else `~/.config/mtor/config.toml`. */
export function userConfigPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "mtor", "config.toml");
}

export interface UserConfig {
  url?: string;
  token?: string;
}

/** Reads the user's config file; a missing file is an empty config, a broken one an error. */
export function readUserConfig(file: string): UserConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: invalid TOML: ${String((err as Error).message).split("\n")[0]}`);
  }
  const out: UserConfig = {};
  if (typeof raw.url === "string") out.url = raw.url;
  if (typeof raw.token === "string") out.token = raw.token;
  return out;
}

/** Writes the user's config file, readable by its owner only (it holds a token). */
export function writeUserConfig(file: string, config: UserConfig): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const header = "# mtor CLI settings. Flags --url/--token and env MTOR_URL/MTOR_TOKEN override these.\n";
  writeFileSync(file, header + stringifyToml(config as Record<string, unknown>), { mode: 0o600 });
}

export function resolveSettings(
  flags: { url?: string; token?: string },
  env: Env = process.env,
): OperatorSettings {
  const file = userConfigPath(env);
  const needFile = !(flags.url || env.MTOR_URL) || !(flags.token || env.MTOR_TOKEN);
  const fromFile = needFile ? readUserConfig(file) : {};
  const pick = (flag: string | undefined, envName: string, fileValue: string | undefined) => {
    if (flag) return { value: flag, source: `--${envName === "MTOR_URL" ? "url" : "token"}` };
    if (env[envName]) return { value: env[envName], source: envName };
    if (fileValue) return { value: fileValue, source: file };
    return { value: undefined, source: "none" };
  };
  const url = pick(flags.url, "MTOR_URL", fromFile.url);
  const token = pick(flags.token, "MTOR_TOKEN", fromFile.token);
  return {
    url: (url.value ?? DEFAULT_URL).replace(/\/+$/, ""),
    token: token.value,
    source: { url: url.value ? url.source : "default", token: token.source },
  };
}
