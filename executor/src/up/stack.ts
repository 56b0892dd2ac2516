// The local stack of `mtor up` and `mtor demo`: the control plane in local workerd, a cron
// ticker, the demo provider (when no real one is configured) and one executor daemon as a
// child process. Every child runs in its own process group and is stopped with it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { type DemoProvider, startDemoProvider } from "../demo/provider";
import type { Env } from "../http/settings";
import { type LocalControlPlane, REPO_ROOT, startControlPlane } from "../local/control-plane";
import { DEMO_TOKEN_ENV, demoProvider, type LocalProvider, providersFromEnv } from "./providers";
import { ensureSandboxRepo } from "./sandbox";
import { controlPlaneVars, ensureSecrets, type LocalSecrets, writeExecutorConfig } from "./state";

export interface StackOptions {
  /** Everything lives here: workerd state, secrets, executor workdir, the sandbox repo. */
  stateDir: string;
  port: number;
  /** The address the control plane listens on (default 127.0.0.1). */
  host?: string;
  /** The base URL action links and ntfy click URLs use (the control plane's PUBLIC_URL). */
  publicUrl?: string;
  env: Env;
  /** Lines for the person watching (the banner is printed by the caller). */
  log: (line: string) => void;
  /** Show the executor's and demo provider's own lines. */
  verbose?: boolean;
  /** Executor capacity (concurrent runs). */
  capacity?: number;
  /** Seconds between cron ticks; 60 like the deployed trigger. */
  tickS?: number;
  /**
   * Cores the executor's load sensing divides by (default: the box's). The demo raises it: on a
   * small box its own harnesses and workerd would otherwise hold back its claims.
   */
  cpuCores?: number;
  /** A provider that plays the reviewer of every run whose gates pass. */
  reviewer?: string;
}

export interface Stack {
  url: string;
  token: string;
  secrets: LocalSecrets;
  providers: LocalProvider[];
  /** True when the built-in scripted model serves the runs. */
  demo: boolean;
  sandboxRepo: string;
  executorConfig: string;
  controlPlane: LocalControlPlane;
  /** Resolves when the executor exits on its own (a crash), with its exit code. */
  executorExited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once("error", () => done(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => done(true)));
  });
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const secrets = ensureSecrets(stateDir);
  const sandboxRepo = ensureSandboxRepo(join(stateDir, "repos", "sandbox"));

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    while (stoppers.length > 0) {
      const stop = stoppers.pop() as () => Promise<void>;
      await stop().catch((err) => opts.log(`while stopping: ${(err as Error).message}`));
    }
  };

  const t0 = Date.now();
  const took = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  try {
    let providers = providersFromEnv(opts.env);
    let demo: DemoProvider | undefined;
    if (providers.length === 0) {
      demo = await startDemoProvider({
        log: opts.verbose ? (l) => opts.log(`[demo model] ${l}`) : undefined,
      });
      const d = demo;
      stoppers.push(() => d.close());
      providers = [demoProvider(demo.url)];
      opts.log(`  demo model listening on ${demo.url} (${took()})`);
    }

    const controlPlane = await startControlPlane({
      port: opts.port,
      host: opts.host,
      persistDir: join(stateDir, "state"),
      vars: controlPlaneVars(secrets, opts.publicUrl ? { PUBLIC_URL: opts.publicUrl } : {}),
      // A first start compiles the Worker; on a busy box that can take a while.
      startTimeoutMs: 120_000,
      onOutput: opts.verbose ? (l) => opts.log(`[control plane] ${l}`) : undefined,
    });
    stoppers.push(() => controlPlane.stop());
    opts.log(`  control plane ready on ${controlPlane.url} (${took()})`);

    // The deployed Worker's cron fires every minute; locally wrangler's test route stands in.
    const tickMs = (opts.tickS ?? 60) * 1000;
    const ticker = setInterval(() => {
      controlPlane.tick().catch((err) => opts.log(`cron tick failed: ${(err as Error).message}`));
    }, tickMs);
    ticker.unref();
    stoppers.push(async () => clearInterval(ticker));

    const executorConfig = writeExecutorConfig(join(stateDir, "executor.toml"), {
      controlPlane: controlPlane.url,
      id: "local",
      keyId: secrets.executorKeyId,
      workdir: join(stateDir, "executor"),
      capacity: opts.capacity ?? 2,
      providers,
      repos: { sandbox: { url: sandboxRepo } },
      heartbeatS: 5,
      claimWaitS: 10,
      drainS: 8,
      cpuCores: opts.cpuCores,
      reviewer: opts.reviewer && providers.some((p) => p.name === opts.reviewer) ? opts.reviewer : undefined,
    });

    const executor = spawnExecutor(
      executorConfig,
      {
        ...providerEnv(opts.env, providers),
        MTOR_EXECUTOR_SECRET: secrets.executorSecret,
      },
      opts.verbose ? (l) => opts.log(`[executor] ${l}`) : undefined,
    );
    const executorExited = new Promise<number | null>((done) => executor.once("exit", (code) => done(code)));
    opts.log(`  executor started, pid ${executor.pid} (${took()})`);
    stoppers.push(() => stopGroup(executor, 20_000));

    return {
      url: controlPlane.url,
      token: secrets.operatorToken,
      secrets,
      providers,
      demo: demo !== undefined,
      sandboxRepo,
      executorConfig,
      controlPlane,
      executorExited,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Only what the executor needs: PATH and friends, and the providers' keys. */
function providerEnv(env: Env, providers: LocalProvider[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "LANG", "TMPDIR", "USER", "SHELL", "TERM", "NODE_OPTIONS"]) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  for (const p of providers) {
    out[p.tokenEnv] = p.tokenEnv === DEMO_TOKEN_ENV ? "demo-no-key-needed" : (env[p.tokenEnv] ?? "");
  }
  return out;
}

function spawnExecutor(
  configFile: string,
  env: Record<string, string>,
  onLine?: (line: string) => void,
): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "executor", "bin", "mtor.js"), "executor", "--config", configFile],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    },
  );
  let partial = "";
  const onData = (buf: Buffer) => {
    const text = partial + buf.toString();
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine?.(line);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return child;
}

/** SIGTERM the child's process group (the executor drains), SIGKILL what is left after `graceMs`. */
export async function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid;
  if (!pid) return;
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((done) => child.once("exit", () => done()));
  signalGroup(pid, "SIGTERM");
  const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
  signalGroup(pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}
