// Orchestration overhead: specs end to end with the real `claude` harness and the instant demo
// model on a generated 5 000-file repo, split by the executor's own step timings, against a
// bare `claude --print` call and the same task done by a bare `claude` in a plain clone, both
// measured just before each spec.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemoProvider } from "../executor/src/demo/provider";
import { resolvePackageBin } from "../executor/src/harness/bin";
import { claudeArgs, claudeEnv } from "../executor/src/harness/claude";
import { buildPrompt, PREFLIGHT_PROMPT } from "../executor/src/prompt";
import {
  benchStack,
  median,
  onCleanup,
  round,
  serveOrigin,
  sleep,
  startDelayProxy,
  startExecutor,
  writeBenchConfig,
} from "./lib";

/** Half the added round trip to the origin (30 ms in all). */
export const ORIGIN_ONE_WAY_MS = 15;

/**
 * Split entries shown beside the stage they overlap, or after the verdict, and not summed: the
 * step timing each one reads.
 */
export const SHOWN_APART = {
  preflight: "preflight",
  origin_check: "origin_check",
  gates: "gates",
  cleanup_after_verdict: "cleanup",
} as const;

export interface OverheadResult {
  files: number;
  /** The origin: git daemon behind the delay proxy, and how many connections went through it. */
  origin: { added_round_trip_ms: number; connections: number };
  specs: number;
  /** Dispatch to verdict sent. */
  end_to_end_ms: number;
  /** The harness process's own time, and the preflight's share of the run's time (its wait for the probe). */
  harness_ms: number;
  /** Everything but those two. */
  overhead_ms: number;
  split_ms: Record<string, number>;
  bare_claude_ms: number;
  overhead_to_bare_claude: number;
  /** Overhead with the preflight counted in it (everything but the harness process's own time). */
  overhead_with_preflight_ms: number;
  overhead_with_preflight_to_bare_claude: number;
  /**
   * The spec's own task done by a bare `claude` (the run's prompt, tools and model, the same
   * demo provider) in a plain clone of the repo on a branch of its own: no control plane,
   * workspace pool, sandbox, provider tap, probe, gates or push. Median over the specs.
   */
  bare_task_ms: number;
  /**
   * A stricter view, shown and not a target: end to end less the same task done bare, measured
   * just before the spec. Whatever makes the harness's own claude slower inside the run than
   * bare (the sandbox, the provider tap, the probe's claude starting beside it) counts here too.
   */
  end_to_end_less_bare_task_ms: number;
  end_to_end_less_bare_task_to_bare_task: number;
  /** What starting one process in the executor's sandbox costs, as the executor measured it at start. */
  sandbox_start_ms: number | null;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "bench",
      GIT_AUTHOR_EMAIL: "bench@mtor.invalid",
      GIT_COMMITTER_NAME: "bench",
      GIT_COMMITTER_EMAIL: "bench@mtor.invalid",
    },
  }).trim();
}

/** A bare origin whose main holds `files` small TypeScript files in 50 folders. */
function bigOrigin(root: string, files: number): string {
  const path = join(root, "origins", "big.git");
  const seed = join(root, "origins", "big-seed");
  mkdirSync(join(seed, "src"), { recursive: true });
  writeFileSync(join(seed, "package.json"), '{"name":"big","type":"module","private":true}\n');
  writeFileSync(
    join(seed, "src", "math.ts"),
    "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
  );
  for (let i = 0; i < files; i++) {
    const dir = join(seed, "gen", `d${i % 50}`);
    if (i < 50) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.ts`), `export const v${i} = ${i};\n`);
  }
  git(join(root, "origins"), "init", "-q", "--bare", "-b", "main", path);
  git(seed, "init", "-q", "-b", "main");
  git(seed, "add", ".");
  git(seed, "commit", "-q", "-m", "Initial commit");
  git(seed, "push", "-q", path, "main");
  rmSync(seed, { recursive: true, force: true });
  return path;
}

/** Wall time of one `claude` process: from its start, with `prompt` on stdin, to its exit. */
async function timedClaude(args: string[], env: Record<string, string>, cwd: string, prompt: string) {
  const bin = resolvePackageBin("@anthropic-ai/claude-code", "claude");
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ["pipe", "ignore", "ignore"] });
    child.stdin?.end(prompt);
    child.once("error", reject);
    child.once("exit", () => resolve());
  });
  return performance.now() - t0;
}

async function bareClaude(baseUrl: string): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), "mtor-bench-claude-"));
  const ms = await timedClaude(
    ["--bare", "--print", "--output-format", "json", "--model", "demo", "--no-session-persistence"],
    {
      PATH: process.env.PATH ?? "",
      HOME: home,
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: "demo-token",
      CLAUDE_CONFIG_DIR: join(home, ".claude"),
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CI: "1",
    },
    home,
    PREFLIGHT_PROMPT,
  );
  rmSync(home, { recursive: true, force: true });
  return ms;
}

/** The spec's fields that make the run's prompt (the bare task gets the same prompt). */
function specFields(i: number) {
  return {
    title: `overhead ${i}`,
    body: "Add a clamp.",
    targets: ["src/math.ts"],
    tests: [`test_clamp_value_${i}`],
    stop: "Stop after this test.",
  };
}

/**
 * The spec's task done by a bare `claude`: a plain clone of the origin's main (not timed), on a
 * branch of its own, then the CLI with the run's arguments, environment and prompt, straight
 * against the demo provider. Its time is the reference for the stricter overhead view. A bare
 * run that commits nothing did not do the task and measures nothing, so it throws.
 */
async function bareTask(baseUrl: string, originPath: string, root: string, i: number): Promise<number> {
  const dir = mkdtempSync(join(root, "bare-task-"));
  const ws = join(dir, "ws");
  const home = join(dir, "home");
  mkdirSync(home);
  git(dir, "clone", "-q", originPath, ws);
  git(ws, "checkout", "-q", "-b", `bare-${i}`);
  const env = claudeEnv({
    home,
    provider: { name: "demo", baseUrl, token: "demo-token", model: "demo", harness: "claude" },
    model: "demo",
  });
  const ms = await timedClaude(claudeArgs("demo"), env, ws, buildPrompt(specFields(i)));
  const commits = Number(git(ws, "rev-list", "--count", "main..HEAD"));
  rmSync(dir, { recursive: true, force: true });
  if (commits < 1) throw new Error(`overhead: the bare claude run of task ${i} made no commit`);
  return ms;
}

export async function runOverhead(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<OverheadResult> {
  const log = opts.log ?? (() => {});
  const files = 5_000;
  const specs = opts.quick ? 1 : 3;
  const stack = await benchStack("overhead");
  bigOrigin(stack.root, files);
  // The origin sits 30 ms away: git daemon serves it, behind a loopback proxy adding 15 ms each way.
  const served = await serveOrigin(join(stack.root, "origins"), "big.git");
  const proxy = await startDelayProxy({ host: "127.0.0.1", port: served.port }, ORIGIN_ONE_WAY_MS);
  const origin = `git://127.0.0.1:${proxy.port}/big.git`;
  const demo = await startDemoProvider({});
  onCleanup(() => demo.close());
  const workdir = join(stack.root, "executor");
  const config = writeBenchConfig(join(stack.root, "configs"), {
    id: "overhead",
    controlPlane: stack.cp.url,
    workdir,
    repos: { big: origin },
    providers: { demo: demo.url },
    capacity: 1,
    heartbeatS: 5,
    harness: "claude",
    claimWaitS: 20,
  });
  const ex = startExecutor(config, workdir);
  const sandboxLine = await ex.waitForLine(/sandbox \w+: starts in \d+ ms/, 60_000).catch(() => "");
  const sandboxMs = /starts in (\d+) ms/.exec(sandboxLine)?.[1];
  await sleep(1000);

  const e2e: number[] = [];
  const harness: number[] = [];
  const harnessOnly: number[] = [];
  const split: Record<string, number[]> = {};
  const bare: number[] = [];
  const bareTasks: number[] = [];
  for (let i = 0; i < specs; i++) {
    // The bare call and the same task done bare first, in the same conditions, then one spec
    // end to end.
    bare.push(await bareClaude(demo.url));
    bareTasks.push(await bareTask(demo.url, join(stack.root, "origins", "big.git"), stack.root, i));
    const f = specFields(i);
    const id = await stack.dispatch(
      `---\ntitle: ${f.title}\nrepo: big\nprovider: demo\ntargets: [${f.targets.join(", ")}]\ntests: [${f.tests.join(", ")}]\nstop: ${f.stop}\n---\n${f.body}\n`,
    );
    const line = await ex.waitForLine(new RegExp(`run ${id}-1 timings: `), 240_000);
    const spec = await stack.spec(id);
    const run = spec.runs.at(-1);
    // A run that failed early is quick and says nothing about the overhead of one that works.
    if (spec.status !== "awaiting_review")
      throw new Error(`overhead: spec ${id} ended ${spec.status}: ${JSON.stringify(run?.failure)}`);
    const t = JSON.parse(line.slice(line.indexOf("timings: ") + 9)) as Record<string, number>;
    // Claim latency (dispatch → claim) is protocol too, from the control plane's own times.
    const claimMs = run ? Date.parse(run.claimed_at) - Date.parse(spec.created_at) : 0;
    // Up to the verdict: the workspace goes back to the pool after it, off the critical path.
    const total = (t.total ?? 0) + Math.max(0, claimMs);
    // The harness starts once the workspace is ready, while the preflight may still be probing:
    // the preflight costs the run the time the harness's first request waited for it to pass
    // (harness_held), which is overhead, not the harness's own time.
    const heldMs = t.harness_held ?? 0;
    const claudeMs = Math.max(0, (t.harness_process ?? t.harness ?? 0) - heldMs);
    // The gates run while the origin is listed after the harness: that stage lasts as long as
    // the slower of the two.
    const parts: Record<string, number> = {
      claim: Math.max(0, claimMs),
      worktree: t.worktree ?? 0,
      harness_held: heldMs,
      harness_process: claudeMs,
      // Around the process: the provider tap, the sandbox, the runaway guard.
      harness_step: Math.max(0, (t.harness ?? 0) - claudeMs - heldMs),
      origin_check_and_gates: Math.max(t.origin_check ?? 0, t.gates ?? 0),
      confirm: t.confirm ?? 0,
      push: t.push ?? 0,
      verdict: t.verdict ?? 0,
    };
    parts.other = Math.max(0, total - Object.values(parts).reduce((a, b) => a + b, 0));
    // Shown, not summed: the halves of the shared stages, and what follows the verdict.
    for (const [k, v] of Object.entries(SHOWN_APART)) parts[k] = t[v] ?? 0;
    for (const [k, v] of Object.entries(parts)) split[k] = [...(split[k] ?? []), v];
    e2e.push(total);
    harness.push(claudeMs + heldMs);
    harnessOnly.push(claudeMs);
    log(
      `overhead: spec ${i} ${spec.status} in ${Math.round(total)} ms, ${Math.round(claudeMs)} ms in claude, preflight ${t.preflight ?? 0} ms (the harness waited ${heldMs} ms for it), workspace ${t.worktree ?? 0} ms; bare claude ${Math.round(bare.at(-1) ?? 0)} ms, the task bare ${Math.round(bareTasks.at(-1) ?? 0)} ms`,
    );
  }
  await ex.kill("SIGTERM");
  const overheads = e2e.map((v, i) => v - (harness[i] as number));
  const overhead = median(overheads);
  const bareMs = median(bare);
  const bareTaskMs = median(bareTasks);
  const lessBareTask = median(e2e.map((v, i) => v - (bareTasks[i] as number)));
  return {
    files,
    origin: { added_round_trip_ms: 2 * ORIGIN_ONE_WAY_MS, connections: proxy.connections },
    specs,
    end_to_end_ms: round(median(e2e), 0),
    harness_ms: round(median(harness), 0),
    overhead_ms: round(overhead, 0),
    split_ms: Object.fromEntries(Object.entries(split).map(([k, v]) => [k, round(median(v), 0)])),
    bare_claude_ms: round(bareMs, 0),
    overhead_to_bare_claude: round(overhead / bareMs),
    overhead_with_preflight_ms: round(median(e2e.map((v, i) => v - (harnessOnly[i] as number))), 0),
    overhead_with_preflight_to_bare_claude: round(
      median(e2e.map((v, i) => v - (harnessOnly[i] as number))) / bareMs,
    ),
    bare_task_ms: round(bareTaskMs, 0),
    end_to_end_less_bare_task_ms: round(lessBareTask, 0),
    end_to_end_less_bare_task_to_bare_task: round(lessBareTask / bareTaskMs),
    sandbox_start_ms: sandboxMs === undefined ? null : Number(sandboxMs),
  };
}
