// The `[temporal]` table of the executor config (engine = "temporal"): where the cluster is,
// how to authenticate (mTLS or an API key for Temporal Cloud) and the step timing. Every problem
// is named by its key, like the rest of the config.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { NativeConnectionOptions } from "@temporalio/worker";
import { z } from "zod";
import { ConfigError, type Env } from "../config";
import { DEFAULT_TIMING, type StepTiming } from "./shared";

const TlsFile = z.strictObject({
  /** PEM client certificate and key for mTLS (Temporal Cloud's certificate auth, or your own CA). */
  client_cert: z.string().min(1).optional(),
  client_key: z.string().min(1).optional(),
  /** PEM CA of the server, when it is not one the OS trusts. */
  server_ca: z.string().min(1).optional(),
  /** SNI override, for proxies in front of the frontend. */
  server_name: z.string().min(1).optional(),
});

const TemporalFile = z.strictObject({
  address: z.string().min(1, "must not be empty").default("localhost:7233"),
  namespace: z.string().min(1, "must not be empty").default("default"),
  task_queue_prefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'")
    .default("mtor"),
  /** Environment variable holding a Temporal Cloud API key; TLS is then on by default. */
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .default("TEMPORAL_API_KEY"),
  tls: z.union([z.boolean(), TlsFile]).optional(),
  heartbeat_timeout_s: z
    .number()
    .positive()
    .max(3600)
    .default(DEFAULT_TIMING.heartbeatTimeoutMs / 1000),
  step_timeout_s: z
    .number()
    .positive()
    .max(86_400)
    .default(DEFAULT_TIMING.stepTimeoutMs / 1000),
  box_start_timeout_s: z
    .number()
    .positive()
    .max(86_400)
    .default(DEFAULT_TIMING.boxStartTimeoutMs / 1000),
  max_attempts: z.number().int().min(1).max(20).default(DEFAULT_TIMING.maxAttempts),
});

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueuePrefix: string;
  /** Absent: no TLS. `{}`: TLS with the OS's roots. */
  tls?: {
    clientCertPath?: string;
    clientKeyPath?: string;
    serverCaPath?: string;
    serverName?: string;
  };
  apiKey?: string;
  /** The name of the variable the key came from (for messages; the key itself is never logged). */
  apiKeyEnv: string;
  timing: StepTiming;
}

/**
 * Reads `config.temporal`. `TEMPORAL_ADDRESS` and `TEMPORAL_NAMESPACE` override the file, as
 * they do for Temporal's own tools. Relative certificate paths resolve against `baseDir`.
 */
export function parseTemporalSettings(
  table: Record<string, unknown> | undefined,
  env: Env = process.env,
  baseDir = process.cwd(),
): TemporalSettings {
  const raw: Record<string, unknown> = { ...(table ?? {}) };
  if (env.TEMPORAL_ADDRESS) raw.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) raw.namespace = env.TEMPORAL_NAMESPACE;
  const parsed = TemporalFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.flatMap((issue) => {
        const key = ["temporal", ...issue.path.map(String)].join(".");
        if (issue.code === "unrecognized_keys") return issue.keys.map((k) => `${key}.${k}: unknown key`);
        return [`${key}: ${issue.message}`];
      }),
    );
  }
  const t = parsed.data;
  const problems: string[] = [];
  const path = (p: string | undefined) =>
    p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p);

  let tls: TemporalSettings["tls"];
  if (t.tls === true) tls = {};
  else if (typeof t.tls === "object") {
    tls = {
      clientCertPath: path(t.tls.client_cert),
      clientKeyPath: path(t.tls.client_key),
      serverCaPath: path(t.tls.server_ca),
      serverName: t.tls.server_name,
    };
    if (Boolean(tls.clientCertPath) !== Boolean(tls.clientKeyPath)) {
      problems.push("temporal.tls: client_cert and client_key go together (mTLS needs both)");
    }
  }
  const apiKey = env[t.api_key_env] || undefined;
  // An API key travels as a bearer token: never in clear text. Temporal's client turns TLS on for
  // it unless told otherwise; refuse the explicit `tls = false`.
  if (apiKey && t.tls === false)
    problems.push(`temporal.tls: an API key (${t.api_key_env}) needs TLS; remove tls = false`);
  if (apiKey && tls === undefined) tls = {};
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    address: t.address,
    namespace: t.namespace,
    taskQueuePrefix: t.task_queue_prefix,
    tls,
    apiKey,
    apiKeyEnv: t.api_key_env,
    timing: {
      ...DEFAULT_TIMING,
      heartbeatTimeoutMs: Math.round(t.heartbeat_timeout_s * 1000),
      stepTimeoutMs: Math.round(t.step_timeout_s * 1000),
      boxStartTimeoutMs: Math.round(t.box_start_timeout_s * 1000),
      maxAttempts: t.max_attempts,
    },
  };
}

/** Connection options for NativeConnection (workers) and the client, certificates read from disk. */
export function connectionOptions(s: TemporalSettings): NativeConnectionOptions {
  const read = (what: string, p: string) => {
    try {
      return readFileSync(p);
    } catch (err) {
      throw new ConfigError([
        `temporal.tls.${what}: cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      ]);
    }
  };
  const opts: NativeConnectionOptions = { address: s.address };
  if (s.tls) {
    opts.tls = {
      serverNameOverride: s.tls.serverName,
      serverRootCACertificate: s.tls.serverCaPath ? read("server_ca", s.tls.serverCaPath) : undefined,
      clientCertPair:
        s.tls.clientCertPath && s.tls.clientKeyPath
          ? { crt: read("client_cert", s.tls.clientCertPath), key: read("client_key", s.tls.clientKeyPath) }
          : undefined,
    };
  }
  if (s.apiKey) opts.apiKey = s.apiKey;
  return opts;
}

/** One line on where the engine connects, for the startup log (no secrets). */
export function describeSettings(s: TemporalSettings): string {
  const auth = s.apiKey
    ? `API key from ${s.apiKeyEnv}`
    : s.tls?.clientCertPath
      ? "mTLS client certificate"
      : "no auth";
  return `temporal ${s.address} namespace ${s.namespace}, queues ${s.taskQueuePrefix}-<provider>, ${s.tls ? "TLS" : "plaintext"}, ${auth}`;
}
