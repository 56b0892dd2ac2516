// The executor's config file: TOML, validated with zod, env overrides applied, every
// problem named by its key so a broken config is refused before the first claim.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { Grade } from "@mtor/schema";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import type { CommandHarnessConfig, ProviderConfig } from "./harness/types";
import type { ReviewerConfig } from "./review";
import { SANDBOX_KINDS, type SandboxKind } from "./sandbox";

const NAME = /^[A-Za-z0-9._-]+$/;
const nameMessage = "may contain only letters, digits, '.', '_' and '-'";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const httpUrl = z.string({ error: "is required" }).refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}, "must be a URL");

const envName = z.string().regex(ENV_NAME, "must be an environment variable name");

const RepoFile = z.strictObject({
  url: z.string({ error: "is required" }).min(1, "must not be empty"),
  test: z.string().min(1, "must not be empty").optional(),
  base: z.string().min(1, "must not be empty").optional(),
});

const ProviderFile = z.strictObject({
  base_url: httpUrl,
  // Required: a harness started without a key fails every run with the CLI's own login prompt.
  token_env: envName.optional(),
  model: z.string({ error: "is required" }).min(1, "must not be empty"),
  harness: z.string().regex(NAME, nameMessage).default("claude"),
  slots: z.number().int().min(1, "must be at least 1").max(256).optional(),
});

const HarnessFile = z.strictObject({
  command: z.array(z.string()).min(1, "must name a program"),
  token_env: envName.optional(),
  base_url_env: envName.optional(),
});

const ReviewFile = z.strictObject({
  provider: z.string({ error: "is required" }).regex(NAME, nameMessage),
  min_grade: Grade.default("D"),
  timeout_s: z.number().positive().default(120),
  max_diff_kb: z.number().positive().default(64),
  price_in_per_mtok: z.number().min(0).optional(),
  price_out_per_mtok: z.number().min(0).optional(),
});

const ConfigFile = z.strictObject({
  control_plane: httpUrl,
  id: z.string({ error: "is required" }).min(1).max(100).regex(NAME, nameMessage),
  key_id: z.string().min(1).max(100).optional(),
  secret_env: envName.default("MTOR_EXECUTOR_SECRET"),
  capacity: z.number().int().min(1, "must be at least 1").max(256, "must be at most 256").default(2),
  workdir: z.string().min(1).default(".mtor/executor"),
  engine: z.enum(["local", "temporal"], { error: 'must be "local" or "temporal"' }).default("local"),
  sandbox: z.enum(SANDBOX_KINDS, { error: 'must be "bwrap" or "none"' }).default("bwrap"),
  repos: z.record(z.string().regex(NAME, nameMessage), RepoFile).default({}),
  providers: z.record(z.string().regex(NAME, nameMessage), ProviderFile).default({}),
  harnesses: z.record(z.string().regex(NAME, nameMessage), HarnessFile).default({}),
  temporal: z.record(z.string(), z.unknown()).optional(),
  /** The reviewer model that grades runs whose gates passed. */
  review: ReviewFile.optional(),
  /** Tuning, mostly for tests: seconds between heartbeats, claim long-poll, drain deadline. */
  heartbeat_s: z.number().positive().default(30),
  claim_wait_s: z.number().min(0).max(25).default(25),
  drain_s: z.number().min(0).default(60),
  keep_failed: z.number().int().min(0).default(5),
  preflight_timeout_s: z.number().positive().default(60),
  /**
   * A failed preflight tried again in the same slot this many more times, preflight_retry_s
   * apart. 0 (the default) fails the run at once: the control plane counts the failure toward
   * the provider's breaker and the slot is free for other work. Benchmarks set it to replay
   * the seed's executor, which retried a failing preflight while holding its slot.
   */
  preflight_retries: z.number().int().min(0).default(0),
  preflight_retry_s: z.number().min(0).default(30),
  /**
   * Stop a harness whose branch passes the commit_flood cap while it runs (the gate would reject
   * it anyway): on by default. Benchmarks turn it off to replay the seed, which let it run.
   */
  stop_runaways: z.boolean().default(true),
  cpu_cores: z.number().int().min(1, "must be at least 1").optional(),
  git_name: z.string().default("mtor agent"),
  git_email: z.string().default("agent@mtor.invalid"),
});

export interface RepoConfig {
  name: string;
  /** A remote URL or a local path (made absolute). */
  url: string;
  test?: string;
  base?: string;
}

export interface ExecutorConfig {
  controlPlane: string;
  id: string;
  keyId: string;
  secret: string;
  capacity: number;
  /** Absolute. */
  workdir: string;
  engine: "local" | "temporal";
  /** Where harnesses and test commands run: "bwrap" (the default) or "none", chosen explicitly. */
  sandbox: SandboxKind;
  repos: Record<string, RepoConfig>;
  providers: Record<string, ProviderConfig & { slots?: number }>;
  harnesses: Record<string, CommandHarnessConfig>;
  temporal?: Record<string, unknown>;
  /** The reviewer, when `[review]` names a provider. */
  review?: ReviewerConfig;
  heartbeatMs: number;
  claimWaitS: number;
  drainMs: number;
  keepFailed: number;
  preflightTimeoutMs: number;
  /** More tries of a failed preflight in the same slot, and the wait before each. */
  preflightRetries: number;
  preflightRetryMs: number;
  /** Stop a harness once its branch passes the commit_flood cap. */
  stopRunaways: boolean;
  gitIdentity: { name: string; email: string };
  /** Cores the load average is divided by; default os.cpus().length. */
  cpuCores?: number;
}

/** A config that cannot be used; the message names every bad key. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

export type Env = Record<string, string | undefined>;

/** Reads and validates a config file. `env` defaults to process.env. */
export function loadConfig(file: string, env: Env = process.env): ExecutorConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfig(text, env, dirname(resolve(file)));
}

/** Top-level keys that hold numbers, so their env overrides are read as numbers. */
const NUMBER_KEYS = new Set([
  "capacity",
  "heartbeat_s",
  "claim_wait_s",
  "drain_s",
  "keep_failed",
  "preflight_timeout_s",
  "preflight_retries",
  "preflight_retry_s",
  "cpu_cores",
]);
/** Tables are not overridable one env var at a time. */
const TABLE_KEYS = new Set(["repos", "providers", "harnesses", "temporal", "review"]);

/**
 * Every top-level key is overridable by env: `MTOR_<KEY>` (`MTOR_CAPACITY`,
 * `MTOR_WORKDIR`, …), plus the documented names, which win: `MTOR_URL` (control_plane),
 * `MTOR_EXECUTOR_ID` (id), `MTOR_KEY_ID` (key_id).
 */
function envOverrides(): [string, string][] {
  const generic = Object.keys(ConfigFile.shape)
    .filter((key) => !TABLE_KEYS.has(key))
    .map((key): [string, string] => [`MTOR_${key.toUpperCase()}`, key]);
  return [...generic, ["MTOR_URL", "control_plane"], ["MTOR_EXECUTOR_ID", "id"], ["MTOR_KEY_ID", "key_id"]];
}

/** Parses config text. Relative paths (workdir, local repo paths) resolve against `baseDir`. */
export function parseConfig(text: string, env: Env = process.env, baseDir = process.cwd()): ExecutorConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const first = String((err as Error).message).split("\n")[0];
    throw new ConfigError([`invalid TOML: ${first}`]);
  }

  // Env overrides are applied before validation so a bad override is named like a bad key.
  for (const [name, key] of envOverrides()) {
    const v = env[name];
    if (v !== undefined && v !== "")
      raw[key] = NUMBER_KEYS.has(key) && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  }

  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError([
      ...parsed.error.issues.map((issue) => {
        const key = issue.path.map(String).join(".") || "config";
        if (issue.code === "unrecognized_keys") {
          const prefix = issue.path.length > 0 ? `${key}.` : "";
          return issue.keys.map((k) => `${prefix}${k}: unknown key`).join("\n");
        }
        const missing = issue.code === "invalid_type" && issue.input === undefined;
        return `${key}: ${missing ? "is required" : issue.message}`;
      }),
      // Named too, so one try shows every problem.
      ...missingTokens(raw.providers, env),
    ]);
  }
  const c = parsed.data;
  const problems: string[] = [];

  const secret = env.MTOR_EXECUTOR_SECRET || env[c.secret_env];
  if (!secret)
    problems.push(
      `secret_env: environment variable ${c.secret_env} is not set (the executor's signing secret)`,
    );

  const providers: ExecutorConfig["providers"] = {};
  for (const [name, p] of Object.entries(c.providers)) {
    let token = "";
    if (!p.token_env) {
      problems.push(
        `providers.${name}.token_env: is required (the environment variable that holds the provider's API key)`,
      );
    } else {
      token = env[p.token_env] ?? "";
      if (!token)
        problems.push(`providers.${name}.token_env: environment variable ${p.token_env} is not set`);
    }
    if (!["claude", "opencode"].includes(p.harness) && !c.harnesses[p.harness]) {
      problems.push(
        `providers.${name}.harness: unknown harness "${p.harness}" (claude, opencode or a [harnesses] entry)`,
      );
    }
    providers[name] = {
      name,
      baseUrl: p.base_url,
      token,
      model: p.model,
      harness: p.harness,
      slots: p.slots,
    };
  }

  const repos: ExecutorConfig["repos"] = {};
  for (const [name, r] of Object.entries(c.repos)) {
    repos[name] = {
      name,
      url: isRemoteUrl(r.url) ? r.url : resolve(baseDir, r.url),
      test: r.test,
      base: r.base,
    };
  }

  const harnesses: ExecutorConfig["harnesses"] = {};
  for (const [name, h] of Object.entries(c.harnesses)) {
    harnesses[name] = { name, command: h.command, tokenEnv: h.token_env, baseUrlEnv: h.base_url_env };
  }

  let review: ReviewerConfig | undefined;
  if (c.review) {
    const p = providers[c.review.provider];
    if (!p) {
      problems.push(
        `review.provider: unknown provider "${c.review.provider}" (name one of the [providers] tables)`,
      );
    } else {
      review = {
        provider: p.name,
        baseUrl: p.baseUrl,
        token: p.token,
        model: p.model,
        minGrade: c.review.min_grade,
        timeoutMs: Math.round(c.review.timeout_s * 1000),
        maxDiffBytes: Math.round(c.review.max_diff_kb * 1024),
        priceInPerMtok: c.review.price_in_per_mtok,
        priceOutPerMtok: c.review.price_out_per_mtok,
      };
    }
  }

  if (Object.keys(providers).length === 0)
    problems.push("providers: at least one [providers.NAME] table is required");
  if (Object.keys(repos).length === 0) problems.push("repos: at least one [repos.NAME] table is required");
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    controlPlane: c.control_plane.replace(/\/+$/, ""),
    id: c.id,
    keyId: c.key_id ?? c.id,
    secret: secret as string,
    capacity: c.capacity,
    workdir: isAbsolute(c.workdir) ? c.workdir : resolve(baseDir, c.workdir),
    engine: c.engine,
    sandbox: c.sandbox,
    repos,
    providers,
    harnesses,
    temporal: c.temporal,
    review,
    heartbeatMs: Math.round(c.heartbeat_s * 1000),
    claimWaitS: c.claim_wait_s,
    drainMs: Math.round(c.drain_s * 1000),
    keepFailed: c.keep_failed,
    preflightTimeoutMs: Math.round(c.preflight_timeout_s * 1000),
    preflightRetries: c.preflight_retries,
    preflightRetryMs: Math.round(c.preflight_retry_s * 1000),
    stopRunaways: c.stop_runaways,
    gitIdentity: { name: c.git_name, email: c.git_email },
    cpuCores: c.cpu_cores,
  };
}

function missingTokens(providers: unknown, env: Env): string[] {
  if (!providers || typeof providers !== "object") return [];
  const out: string[] = [];
  for (const [name, p] of Object.entries(providers as Record<string, unknown>)) {
    const tokenEnv = (p as { token_env?: unknown } | null)?.token_env;
    if (typeof tokenEnv === "string" && ENV_NAME.test(tokenEnv) && !env[tokenEnv]) {
      out.push(`providers.${name}.token_env: environment variable ${tokenEnv} is not set`);
    }
  }
  return out;
}

/** `git@host:path`, `ssh://`, `https://`, `file://` are remotes; anything else is a local path. */
export function isRemoteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/\s]+@[^/\s]+:/.test(url);
}
