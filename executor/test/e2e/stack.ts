// The real processes an end-to-end test needs: the control plane in local workerd, bare git
// repos as `origin`, executors running the real `mtor executor` CLI, and operator API calls.
import { type ChildProcess, spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SpecDetail } from "@mtor/schema";
import { reapProcessesUnder } from "../../src/daemon/recover";
import { type LocalControlPlane, REPO_ROOT, startControlPlane } from "../../src/local/control-plane";
import { gitIn } from "../git-cli";

export { gitIn };

export const OPERATOR_TOKEN = "e2e-operator-token-0123456789";
export const EXECUTOR_KEY = { id: "e2e", secret: "e2e-executor-secret-0123456789abcdef" };
const MTOR_BIN = join(REPO_ROOT, "executor", "bin", "mtor.js");
/**
 * The control plane's test build: the production Worker plus `/__test/clock` and `/__test/seed`
 * over a Fleet whose clock can be pinned or sped up. No deployment runs it.
 */
export const TEST_WORKER = join(REPO_ROOT, "control-plane", "test", "worker", "index.ts");

export interface Stack {
  root: string;
  cp: LocalControlPlane;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  dispatch(spec: string): Promise<string>;
  spec(id: string): Promise<SpecDetail>;
  /** Waits until the spec reaches one of `statuses`; fails with the spec's state on timeout. */
  waitForStatus(id: string, statuses: string[], timeoutMs?: number): Promise<SpecDetail>;
  /** Pins the control plane's clock (ms since the epoch), or unpins it with null. */
  pinClock(ms: number | null): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(name: string, vars: Record<string, string> = {}): Promise<Stack> {
  const root = mkdtempSync(join(tmpdir(), `mtor-e2e-${name}-`));
  const cp = await startControlPlane({
    persistDir: join(root, "control-plane"),
    entry: TEST_WORKER,
    onOutput: process.env.MTOR_E2E_VERBOSE
      ? (line) => {
          if (!/Request\.cf|ENOTFOUND|GetAddrInfo|getaddrinfo/.test(line)) console.log(`[workerd] ${line}`);
        }
      : undefined,
    vars: {
      OPERATOR_TOKENS: `e2e:${OPERATOR_TOKEN}:admin`,
      EXECUTOR_KEYS: `${EXECUTOR_KEY.id}:${EXECUTOR_KEY.secret}`,
      ALLOW_PRIVATE_WEBHOOKS: "true",
      ...vars,
    },
  });
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cp.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${OPERATOR_TOKEN}`,
        ...(typeof body === "string"
          ? { "content-type": "text/markdown" }
          : body
            ? { "content-type": "application/json" }
            : {}),
      },
      body: typeof body === "string" ? body : body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plain text answer.
    }
    return { status: res.status, body: parsed as T };
  };
  const stack: Stack = {
    root,
    cp,
    api,
    async dispatch(spec) {
      const res = await api<{ id: string }>("POST", "/v1/specs", spec);
      if (res.status !== 201) throw new Error(`dispatch answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.id;
    },
    async spec(id) {
      const res = await api<SpecDetail>("GET", `/v1/specs/${id}`);
      if (res.status !== 200)
        throw new Error(`GET /v1/specs/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async waitForStatus(id, statuses, timeoutMs = 90_000) {
      let last: SpecDetail | undefined;
      await waitFor(
        async () => {
          // A poll whose kept-alive connection workerd had just closed ("fetch failed: other
          // side closed") says nothing about the spec: the next poll asks again.
          const now = await stack.spec(id).catch((err: unknown) => {
            if (err instanceof TypeError && err.message === "fetch failed") return undefined;
            throw err;
          });
          if (!now) return false;
          last = now;
          return statuses.includes(now.status);
        },
        timeoutMs,
        () =>
          `spec ${id} to reach ${statuses.join("|")}; last: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`,
      );
      return last as SpecDetail;
    },
    async pinClock(ms) {
      const res = await fetch(`${cp.url}/__test/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ms }),
      });
      if (!res.ok) throw new Error(`/__test/clock answered ${res.status}: ${await res.text()}`);
    },
    async close() {
      await cp.stop();
    },
  };
  return stack;
}

/** Polls `check` until it is true; the message says what was awaited and the last state seen. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---------------------------------------------------------------- git

export interface Origin {
  /** Path of the bare repository (what the executor's config names as url). */
  path: string;
  mainSha(): string;
  /** Branch name → sha. */
  branches(): Record<string, string>;
}

/** A bare repo with a `main` branch holding a small TypeScript project. */
export function makeOrigin(root: string, name: string): Origin {
  const path = join(root, "origins", `${name}.git`);
  const seed = join(root, "origins", `${name}-seed`);
  mkdirSync(join(seed, "src"), { recursive: true });
  writeFileSync(join(seed, "README.md"), `# ${name}\n`);
  writeFileSync(
    join(seed, "package.json"),
    `${JSON.stringify({ name, type: "module", private: true }, null, 2)}\n`,
  );
  writeFileSync(
    join(seed, "src", "math.ts"),
    "/** Adds two numbers. */\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n",
  );
  gitIn(join(root, "origins"), "init", "-q", "--bare", "-b", "main", path);
  gitIn(seed, "init", "-q", "-b", "main");
  gitIn(seed, "add", ".");
  gitIn(seed, "commit", "-q", "-m", "Initial commit");
  gitIn(seed, "push", "-q", path, "main");
  rmSync(seed, { recursive: true, force: true });
  return {
    path,
    mainSha: () => gitIn(path, "rev-parse", "refs/heads/main"),
    branches() {
      const out: Record<string, string> = {};
      for (const line of gitIn(
        path,
        "for-each-ref",
        "--format=%(refname:short) %(objectname)",
        "refs/heads",
      ).split("\n")) {
        const [b, sha] = line.split(" ");
        if (b) out[b] = sha;
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- executors

export interface ExecutorSetup {
  id: string;
  controlPlane: string;
  workdir: string;
  repos: Record<string, string>;
  providers: Record<string, { baseUrl: string; harness: string; model?: string }>;
  capacity?: number;
  heartbeatS?: number;
  drainS?: number;
  /** Runs on the Temporal engine with this `[temporal]` table (address and the like). */
  temporal?: Record<string, string | number>;
  /** A `[review]` table: one of `providers` grades every run whose gates pass. */
  review?: { provider: string; minGrade?: string; timeoutS?: number };
}

export function writeExecutorConfig(dir: string, s: ExecutorSetup): string {
  mkdirSync(dir, { recursive: true });
  const lines = [
    `control_plane = ${JSON.stringify(s.controlPlane)}`,
    `id = ${JSON.stringify(s.id)}`,
    `key_id = ${JSON.stringify(EXECUTOR_KEY.id)}`,
    `capacity = ${s.capacity ?? 2}`,
    `workdir = ${JSON.stringify(s.workdir)}`,
    `heartbeat_s = ${s.heartbeatS ?? 1}`,
    "claim_wait_s = 5",
    `drain_s = ${s.drainS ?? 30}`,
    "preflight_timeout_s = 60",
    // The test box is shared and busy; its load must not make the control plane refuse work.
    "cpu_cores = 256",
  ];
  if (s.temporal) {
    lines.splice(2, 0, 'engine = "temporal"');
    lines.push("", "[temporal]");
    for (const [k, v] of Object.entries(s.temporal)) lines.push(`${k} = ${JSON.stringify(v)}`);
  }
  for (const [name, url] of Object.entries(s.repos))
    lines.push("", `[repos.${name}]`, `url = ${JSON.stringify(url)}`);
  for (const [name, p] of Object.entries(s.providers)) {
    lines.push(
      "",
      `[providers.${name}]`,
      `base_url = ${JSON.stringify(p.baseUrl)}`,
      'token_env = "MTOR_E2E_PROVIDER_TOKEN"',
      `model = ${JSON.stringify(p.model ?? "demo")}`,
      `harness = ${JSON.stringify(p.harness)}`,
    );
  }
  if (s.review) {
    lines.push("", "[review]", `provider = ${JSON.stringify(s.review.provider)}`);
    if (s.review.minGrade) lines.push(`min_grade = ${JSON.stringify(s.review.minGrade)}`);
    if (s.review.timeoutS) lines.push(`timeout_s = ${s.review.timeoutS}`);
  }
  const file = join(dir, `${s.id}.toml`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

export class ExecutorProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly config: string,
    readonly workdir: string,
    env: Record<string, string> = {},
  ) {
    this.child = spawn(process.execPath, [MTOR_BIN, "executor", "--config", config], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        MTOR_EXECUTOR_SECRET: EXECUTOR_KEY.secret,
        MTOR_E2E_PROVIDER_TOKEN: "demo-token",
        ...env,
      },
    });
    let partial = "";
    const onData = (buf: Buffer) => {
      partial += buf.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const l of parts) {
        this.lines.push(l);
        if (process.env.MTOR_E2E_VERBOSE) console.log(`[${config.split("/").pop()}] ${l}`);
      }
    };
    this.child.stdout?.on("data", onData);
    this.child.stderr?.on("data", onData);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  output(): string {
    return this.lines.join("\n");
  }

  async waitForLine(re: RegExp, timeoutMs = 60_000): Promise<string> {
    let found: string | undefined;
    await waitFor(
      () => {
        found = this.lines.find((l) => re.test(l));
        return found !== undefined || this.child.exitCode !== null;
      },
      timeoutMs,
      () => `executor output matching ${re}; output so far:\n${this.output().slice(-4000)}`,
      100,
    );
    if (found === undefined)
      throw new Error(`executor exited before printing ${re}:\n${this.output().slice(-4000)}`);
    return found;
  }

  /** Stops the executor and anything a harness left under its workdir. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
    reapProcessesUnder(this.workdir);
  }
}

/** Processes whose working directory lies under `dir` (a harness left behind): "pid command". */
export function processesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      out.push(`${pid} ${cmd}`);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}
