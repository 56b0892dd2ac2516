// Starts the control plane in local workerd (`wrangler dev`) for tests, `mtor up` and benchmarks:
// its own process group, loopback only, state kept under persistDir across restarts.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where wrangler.toml lives). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface ControlPlaneOptions {
  /** Default: a free port. */
  port?: number;
  /** The address workerd listens on; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Where workerd keeps the Durable Object's SQLite; required to keep state across restarts. */
  persistDir: string;
  /**
   * Worker variables (e.g. OPERATOR_TOKENS, EXECUTOR_KEYS, LEASE_TTL_S). They reach wrangler in
   * an env file beside the state (mode 0600), never on its command line, where `ps` shows them.
   */
  vars?: Record<string, string>;
  /**
   * The Worker's entry module, in place of wrangler.toml's `main` (the production Worker): the
   * tests and benchmarks run the test build, whose Fleet's clock they can pin.
   */
  entry?: string;
  /** Called with wrangler's output lines (default: dropped). */
  onOutput?: (line: string) => void;
  /** How long to wait for /healthz. */
  startTimeoutMs?: number;
}

export interface LocalControlPlane {
  url: string;
  port: number;
  /** Stops workerd (the whole process group); state stays in persistDir. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port with the same state. */
  restart(): Promise<void>;
  /** Runs one monitor pass through wrangler's `/__scheduled` test route. */
  tick(): Promise<void>;
}

/** Writes the variables as a dotenv file only the owner can read; returns its path. */
function writeVarsFile(persistDir: string, vars: Record<string, string>): string {
  mkdirSync(persistDir, { recursive: true });
  const file = join(persistDir, "worker-vars.env");
  // Single quotes keep a value literal in a dotenv file; tokens and keys never hold one.
  const quote = (v: string) => {
    if (/['\n\r]/.test(v)) throw new Error("a Worker variable may not hold a quote or a line break");
    return `'${v}'`;
  };
  const text = Object.entries(vars)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join("\n");
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<LocalControlPlane> {
  const port = opts.port ?? (await freePort());
  const host = opts.host ?? "127.0.0.1";
  // Everything on this box talks to it over loopback, whatever address it also listens on.
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = "";

  const launch = async () => {
    const args = ["dev", "--ip", host, "--port", String(port), "--persist-to", opts.persistDir];
    if (opts.entry) args.push(opts.entry);
    args.push("--inspector-port", String(await freePort()));
    if (opts.vars && Object.keys(opts.vars).length > 0)
      args.push("--env-file", writeVarsFile(opts.persistDir, opts.vars));
    args.push("--test-scheduled", "--show-interactive-dev-session=false", "--log-level", "warn");
    output = "";
    const proc = spawn(join(REPO_ROOT, "node_modules", ".bin", "wrangler"), args, {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
    });
    child = proc;
    const onData = (buf: Buffer) => {
      const text = buf.toString();
      output = (output + text).slice(-8000);
      for (const line of text.split("\n")) if (line.trim()) opts.onOutput?.(line);
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`wrangler dev exited (${proc.exitCode ?? proc.signalCode}):\n${output}`);
      }
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    await stop();
    throw new Error(`control plane did not answer ${url}/healthz in time:\n${output}`);
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    killGroup(proc.pid, "SIGTERM");
    const forced = setTimeout(() => killGroup(proc.pid as number, "SIGKILL"), 5000);
    await exited;
    clearTimeout(forced);
    // workerd may outlive wrangler by a moment; make sure nothing of the group is left.
    killGroup(proc.pid, "SIGKILL");
  };

  await launch();
  return {
    url,
    port,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async tick() {
      const res = await fetch(`${url}/__scheduled?cron=*+*+*+*+*`);
      if (!res.ok) throw new Error(`/__scheduled answered ${res.status}`);
      await res.text();
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
