// Shared pieces of the benchmark and the chaos runs: the real local stack (control plane in
// workerd, bare git origin, `mtor executor` processes), the bench agent as a command harness,
// percentiles, and cleanup that leaves no process behind.
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SpecDetail } from "@mtor/schema";
import { freePort } from "../executor/src/local/control-plane";
import {
  EXECUTOR_KEY,
  ExecutorProcess,
  makeOrigin,
  OPERATOR_TOKEN,
  type Stack,
  startStack,
} from "../executor/test/e2e/stack";

export { EXECUTOR_KEY, ExecutorProcess, makeOrigin, OPERATOR_TOKEN, type Stack, startStack };

export const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
export const AGENT = join(BENCH_DIR, "agent.mjs");

// ---------------------------------------------------------------- cleanup

type Cleanup = () => Promise<void> | void;

/** The process's own list, and one list per scope (a part of the bench running alongside others). */
const cleanups: Cleanup[] = [];
const scope = new AsyncLocalStorage<Cleanup[]>();
const scopes = new Set<Cleanup[]>([cleanups]);

/** Registers something to stop at the end of the current scope (or on SIGINT). */
export function onCleanup(fn: Cleanup): void {
  (scope.getStore() ?? cleanups).push(fn);
}

async function drain(list: Cleanup[]): Promise<void> {
  while (list.length > 0) {
    const fn = list.pop();
    try {
      await fn?.();
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
  }
}

/** Stops what the current scope started (outside any scope: what the process started). */
export async function cleanupAll(): Promise<void> {
  await drain(scope.getStore() ?? cleanups);
}

/**
 * Runs `fn` in a cleanup scope of its own: what it registers is stopped by its cleanupAll, not
 * by another part's, so parts can run side by side.
 */
export async function inCleanupScope<T>(fn: () => Promise<T>): Promise<T> {
  const list: Cleanup[] = [];
  scopes.add(list);
  try {
    return await scope.run(list, fn);
  } finally {
    await drain(list);
    scopes.delete(list);
  }
}

/** Stops everything of every scope (a signal). */
async function cleanupEverything(): Promise<void> {
  await Promise.all([...scopes].map(drain));
}

let signalsHooked = false;
export function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping everything the benchmark started`);
      void cleanupEverything().then(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------- stack

/** The stack with its clock running at `rate` × real time from now (1 = real time, unpinned). */
export async function benchStack(name: string, vars: Record<string, string> = {}): Promise<Stack> {
  const stack = await startStack(name, vars);
  // On a loaded box wrangler sometimes closes a kept-alive socket under a request: reads are
  // safe to send again.
  const api = stack.api.bind(stack);
  stack.api = async <T>(method: string, path: string, body?: unknown) => {
    for (let i = 0; ; i++) {
      try {
        return await api<T>(method, path, body);
      } catch (err) {
        if (method !== "GET" || i >= 5) throw err;
        await sleep(200);
      }
    }
  };
  // Nobody reviews during a benchmark: the review backlog limit (default 10) would hold the
  // queue after ten verdicts and measure the limit instead of the fleet.
  const off = await stack.api("PUT", "/v1/settings", { max_awaiting_review: 0 });
  if (off.status !== 200)
    throw new Error(`PUT /v1/settings answered ${off.status}: ${JSON.stringify(off.body)}`);
  stack.spec = async (id: string) => {
    const res = await stack.api<SpecDetail>("GET", `/v1/specs/${id}`);
    if (res.status !== 200)
      throw new Error(`GET /v1/specs/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  onCleanup(async () => {
    await stack.close();
    // MTOR_BENCH_KEEP=1 keeps the state (control plane, origin, executors) for inspection.
    if (process.env.MTOR_BENCH_KEEP) console.log(`kept ${stack.root}`);
    else rmSync(stack.root, { recursive: true, force: true });
  });
  return stack;
}

export async function setClockRate(stack: Stack, rate: number): Promise<void> {
  const res = await fetch(`${stack.cp.url}/__test/clock`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rate === 1 ? { ms: null } : { ms: Date.now(), rate }),
  });
  if (!res.ok) throw new Error(`/__test/clock answered ${res.status}: ${await res.text()}`);
}

/**
 * Bulk-seeds the test build's Fleet: `queued` copies of the `template` spec and `history`
 * finished ones (`POST /__test/seed`). Returns how many specs it wrote.
 */
export async function seedFleet(
  stack: Stack,
  body: { template?: string; queued?: number; history?: number },
): Promise<number> {
  const res = await fetch(`${stack.cp.url}/__test/seed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`/__test/seed answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { specs: number }).specs;
}

export interface BenchExecutor {
  id: string;
  controlPlane: string;
  workdir: string;
  repos: Record<string, string>;
  providers: Record<string, string>;
  capacity: number;
  heartbeatS: number;
  harness?: "bench" | "claude";
  claimWaitS?: number;
  /** The executor's preflight limit (default 60 s) and its same-slot retries (default none). */
  preflightTimeoutS?: number;
  preflightRetries?: number;
  preflightRetryS?: number;
  /** Stop a harness at the commit_flood cap (default on). */
  stopRunaways?: boolean;
}

/** Writes an executor config using the bench agent (or claude) for every provider. */
export function writeBenchConfig(dir: string, e: BenchExecutor): string {
  mkdirSync(dir, { recursive: true });
  const harness = e.harness ?? "bench";
  const lines = [
    `control_plane = ${JSON.stringify(e.controlPlane)}`,
    `id = ${JSON.stringify(e.id)}`,
    `key_id = ${JSON.stringify(EXECUTOR_KEY.id)}`,
    `capacity = ${e.capacity}`,
    `workdir = ${JSON.stringify(e.workdir)}`,
    `heartbeat_s = ${e.heartbeatS}`,
    `claim_wait_s = ${e.claimWaitS ?? 5}`,
    "drain_s = 5",
    `preflight_timeout_s = ${e.preflightTimeoutS ?? 60}`,
    `preflight_retries = ${e.preflightRetries ?? 0}`,
    `preflight_retry_s = ${e.preflightRetryS ?? 30}`,
    `stop_runaways = ${e.stopRunaways ?? true}`,
    "keep_failed = 0",
    // The box is shared and busy; its load must not make the control plane refuse work.
    "cpu_cores = 256",
  ];
  for (const [name, url] of Object.entries(e.repos))
    lines.push("", `[repos.${name}]`, `url = ${JSON.stringify(url)}`);
  if (harness === "bench") {
    // The agent's source goes on the command line: the run's sandbox sees /usr (node) but not
    // this checkout.
    const source = readFileSync(AGENT, "utf8").replace(/^#!.*\n/, "");
    lines.push(
      "",
      "[harnesses.bench]",
      `command = ${JSON.stringify([process.execPath, "--input-type=module", "-e", source])}`,
    );
  }
  for (const [name, baseUrl] of Object.entries(e.providers)) {
    lines.push(
      "",
      `[providers.${name}]`,
      `base_url = ${JSON.stringify(baseUrl)}`,
      'token_env = "MTOR_E2E_PROVIDER_TOKEN"',
      'model = "demo"',
      `harness = ${JSON.stringify(harness)}`,
    );
  }
  const file = join(dir, `${e.id}.toml`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** An executor of the bench's own stack: its config, its workdir, and the process running it. */
export interface StackExecutor {
  id: string;
  config: string;
  workdir: string;
  proc: ExecutorProcess;
}

/** Writes the config of an executor serving `bench` (the stack's origin) and starts it. */
export function startStackExecutor(
  stack: Stack,
  origin: string,
  e: Pick<
    BenchExecutor,
    | "id"
    | "providers"
    | "capacity"
    | "heartbeatS"
    | "preflightTimeoutS"
    | "preflightRetries"
    | "preflightRetryS"
    | "stopRunaways"
  >,
): StackExecutor {
  const workdir = join(stack.root, "executors", e.id);
  const config = writeBenchConfig(join(stack.root, "configs"), {
    ...e,
    controlPlane: stack.cp.url,
    workdir,
    repos: { bench: origin },
  });
  return { id: e.id, config, workdir, proc: startExecutor(config, workdir) };
}

export function startExecutor(config: string, workdir: string): ExecutorProcess {
  const ex = new ExecutorProcess(config, workdir);
  onCleanup(() => ex.kill("SIGKILL"));
  return ex;
}

// ---------------------------------------------------------------- numbers

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` every `ms` until the returned stop is called (never overlapping itself). */
export function every(ms: number, fn: () => Promise<unknown>): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await fn().catch(() => {});
      await sleep(ms);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

// ---------------------------------------------------------------- a distant origin

export interface DelayProxy {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to `target` that holds every chunk for `oneWayMs` in each direction, so a
 * round trip through it takes 2 × oneWayMs more (a distant git host). Chunks keep their order.
 */
export function startDelayProxy(
  target: { host: string; port: number },
  oneWayMs: number,
): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  // Each direction is one queue, pumped on the monotonic clock: a chunk leaves no earlier than
  // oneWayMs after it arrived (a timer may fire early by up to a millisecond; the pump then waits
  // again), and chunks and the end leave in the order they came.
  const delayed = (from: Socket, to: Socket) => {
    const queue: { due: number; chunk: Buffer | null }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const head = queue[0];
      if (head && !timer) timer = setTimeout(pump, Math.max(1, Math.ceil(head.due - performance.now())));
    };
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      for (let head = queue[0]; head && head.due <= now; head = queue[0]) {
        queue.shift();
        if (to.destroyed) continue;
        if (head.chunk === null) to.end();
        else to.write(head.chunk);
      }
      arm();
    };
    const push = (chunk: Buffer | null) => {
      queue.push({ due: performance.now() + oneWayMs, chunk });
      arm();
    };
    from.on("data", (chunk: Buffer) => push(chunk));
    from.on("end", () => push(null));
    from.on("error", () => to.destroy());
  };
  const proxy: DelayProxy = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
  const server = createNetServer((client) => {
    proxy.connections++;
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      proxy.port = (server.address() as AddressInfo).port;
      onCleanup(() => proxy.close());
      resolve(proxy);
    });
  });
}

export interface ServedOrigin {
  /** git://127.0.0.1:PORT/NAME.git, straight to the daemon. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the bare repositories in `dir` over git:// with `git daemon` on a free loopback port,
 * pushes allowed: a local path cannot be put behind a proxy, a network origin can.
 */
export async function serveOrigin(dir: string, name: string): Promise<ServedOrigin> {
  const port = await freePort();
  const proc = spawn(
    "git",
    [
      "daemon",
      "--reuseaddr",
      "--export-all",
      "--enable=receive-pack",
      "--listen=127.0.0.1",
      `--port=${port}`,
      `--base-path=${dir}`,
      dir,
    ],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let stderr = "";
  proc.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const close = async () => {
    if (proc.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise((r) => proc.once("exit", r));
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    await exited;
  };
  onCleanup(close);
  // Ready when it accepts a connection (git daemon prints nothing when it starts listening).
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`git daemon exited (${proc.exitCode}): ${stderr}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) break;
    if (i > 200) throw new Error(`git daemon did not listen on ${port}: ${stderr}`);
    await sleep(50);
  }
  return { url: `git://127.0.0.1:${port}/${name}`, port, close };
}
