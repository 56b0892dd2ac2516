// The local stack's state directory: generated secrets (kept across restarts so the operator
// token stays valid), the executor's config and the sandbox repo.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as stringifyToml } from "smol-toml";
import type { LocalProvider } from "./providers";

export interface LocalSecrets {
  /** An admin token: the one `mtor up` prints and saves for the CLI. */
  operatorToken: string;
  /** A read-only token (`mtor token --role read`), for a phone or a dashboard that only looks. */
  readToken: string;
  executorKeyId: string;
  executorSecret: string;
  actionSecret: string;
}

const newToken = () => `mtor_${randomBytes(24).toString("base64url")}`;

/**
 * Reads `secrets.json` from the state dir, creating it (mode 600) on first run. A file from an
 * older mtor gets the secrets it lacks added; the ones it has are kept, so tokens stay valid.
 */
export function ensureSecrets(stateDir: string): LocalSecrets & { added: (keyof LocalSecrets)[] } {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "secrets.json");
  const old: Partial<LocalSecrets> = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Partial<LocalSecrets>)
    : {};
  const fresh: LocalSecrets = {
    operatorToken: newToken(),
    readToken: newToken(),
    executorKeyId: "local",
    executorSecret: randomBytes(32).toString("base64url"),
    actionSecret: randomBytes(32).toString("base64url"),
  };
  // An executor key without its id (or the other way round) is no key: both are made anew.
  const keyKept = Boolean(old.executorKeyId && old.executorSecret);
  const secrets: LocalSecrets = {
    operatorToken: old.operatorToken || fresh.operatorToken,
    readToken: old.readToken || fresh.readToken,
    executorKeyId: keyKept ? (old.executorKeyId as string) : fresh.executorKeyId,
    executorSecret: keyKept ? (old.executorSecret as string) : fresh.executorSecret,
    actionSecret: old.actionSecret || fresh.actionSecret,
  };
  const added = (Object.keys(secrets) as (keyof LocalSecrets)[]).filter((k) => old[k] !== secrets[k]);
  if (added.length > 0) writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return { ...secrets, added };
}

/** The control plane's secrets and vars for local workerd. */
export function controlPlaneVars(
  s: LocalSecrets,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    OPERATOR_TOKENS: `local:${s.operatorToken}:admin,local-read:${s.readToken}:read`,
    EXECUTOR_KEYS: `${s.executorKeyId}:${s.executorSecret}`,
    ACTION_SECRET: s.actionSecret,
    ALLOW_PRIVATE_WEBHOOKS: "true",
    ...extra,
  };
}

export interface ExecutorFileOptions {
  controlPlane: string;
  id: string;
  keyId: string;
  workdir: string;
  capacity: number;
  providers: LocalProvider[];
  repos: Record<string, { url: string; test?: string }>;
  /** Shorter heartbeats and claim polls make a local demo snappier. */
  heartbeatS?: number;
  claimWaitS?: number;
  /** Seconds a SIGTERM'd executor gives running harnesses before cancelling them. */
  drainS?: number;
  /** Cores the load measure divides by; more than the box has relaxes load sensing. */
  cpuCores?: number;
  /** A provider of `providers` that grades every run whose gates pass (`[review]`). */
  reviewer?: string;
}

/** Writes the executor's TOML config and returns its path. */
export function writeExecutorConfig(file: string, o: ExecutorFileOptions): string {
  const doc: Record<string, unknown> = {
    control_plane: o.controlPlane,
    id: o.id,
    key_id: o.keyId,
    secret_env: "MTOR_EXECUTOR_SECRET",
    capacity: o.capacity,
    workdir: o.workdir,
    engine: "local",
    ...(o.heartbeatS ? { heartbeat_s: o.heartbeatS } : {}),
    ...(o.claimWaitS !== undefined ? { claim_wait_s: o.claimWaitS } : {}),
    ...(o.drainS !== undefined ? { drain_s: o.drainS } : {}),
    ...(o.cpuCores !== undefined ? { cpu_cores: o.cpuCores } : {}),
    ...(o.reviewer ? { review: { provider: o.reviewer, timeout_s: 30 } } : {}),
    repos: o.repos,
    providers: Object.fromEntries(
      o.providers.map((p) => [
        p.name,
        { base_url: p.baseUrl, token_env: p.tokenEnv, model: p.model, harness: p.harness },
      ]),
    ),
  };
  writeFileSync(file, `# Written by \`mtor up\`; rewritten on every start.\n${stringifyToml(doc)}`, {
    mode: 0o600,
  });
  return file;
}
