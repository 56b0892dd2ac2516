// The local stack's state directory: generated secrets (kept across restarts so the operator
// token stays valid), the executor's config and the sandbox repo.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as stringifyToml } from "smol-toml";
import type { LocalProvider } from "./providers";

export interface LocalSecrets {
  operatorToken: string;
  executorKeyId: string;
  executorSecret: string;
  actionSecret: string;
}

/** Reads `secrets.json` from the state dir, creating it (mode 600) on first run. */
export function ensureSecrets(stateDir: string): LocalSecrets {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "secrets.json");
  if (existsSync(file)) {
    const s = JSON.parse(readFileSync(file, "utf8")) as Partial<LocalSecrets>;
    if (s.operatorToken && s.executorKeyId && s.executorSecret && s.actionSecret) return s as LocalSecrets;
  }
  const secrets: LocalSecrets = {
    operatorToken: `mtor_${randomBytes(24).toString("base64url")}`,
    executorKeyId: "local",
    executorSecret: randomBytes(32).toString("base64url"),
    actionSecret: randomBytes(32).toString("base64url"),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/** The control plane's secrets and vars for local workerd. */
export function controlPlaneVars(
  s: LocalSecrets,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    OPERATOR_TOKENS: `local:${s.operatorToken}:admin`,
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
