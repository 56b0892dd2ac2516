// End to end, real processes on loopback: the control plane in workerd, the demo provider, bare
// git repos as origin, and one executor running the real `mtor executor` CLI with the real
// claude and opencode CLIs. Tests share the stack and keep apart by repo and provider names.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { ExecutorProcess, gitIn, makeOrigin, type Origin, type Stack, startStack, waitFor, writeExecutorConfig } from "./stack";

let stack: Stack;
let demo: DemoProvider;
let overloaded: DemoProvider;
let executor: ExecutorProcess;
const origins: Record<string, Origin> = {};
const REPOS = ["happy", "happy-oc", "protect", "breaker", "flowing", "ratelimit"];

beforeAll(async () => {
  stack = await startStack("runs");
  demo = await startDemoProvider();
  overloaded = await startDemoProvider({ script: "error_529" });
  for (const r of REPOS) origins[r] = makeOrigin(stack.root, r);
  const workdir = join(stack.root, "executor-a");
  const config = writeExecutorConfig(stack.root, {
    id: "runs-a",
    controlPlane: stack.cp.url,
    workdir,
    capacity: 3,
    repos: Object.fromEntries(REPOS.map((r) => [r, origins[r].path])),
    providers: {
      "demo-claude": { baseUrl: demo.url, harness: "claude" },
      "demo-opencode": { baseUrl: demo.url, harness: "opencode" },
      "demo-overloaded": { baseUrl: overloaded.url, harness: "claude" },
      "demo-ratelimit": { baseUrl: demo.url, harness: "claude" },
    },
  });
  executor = new ExecutorProcess(config, workdir);
  await executor.waitForLine(/executor runs-a →/);
});

afterAll(async () => {
  await executor?.kill("SIGKILL");
  await demo?.close();
  await overloaded?.close();
  await stack?.close();
});

function spec(fields: Record<string, string>, body: string): string {
  const fm = Object.entries(fields).map(([k, v]) => `${k}: ${v}`);
  return `---\n${fm.join("\n")}\n---\n${body}\n`;
}

async function happyPath(repo: string, provider: string) {
  const origin = origins[repo];
  const mainBefore = origin.mainSha();
  const id = await stack.dispatch(
    spec(
      {
        title: `Add clamp via ${provider}`,
        repo,
        provider,
        targets: "[src/clamp.ts]",
        tests: "[clamps values above the range]",
        stop: "Stop after this one test.",
        timeout: "3m",
      },
      "Add a `clamp(value, low, high)` function to src/clamp.ts, with the one test named.",
    ),
  );
  const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead", "canceled"], 150_000);
  expect(done.status, JSON.stringify(done.runs.at(-1), null, 1)).toBe("awaiting_review");
  const run = done.runs.at(-1);
  if (!run) throw new Error("no run");
  const branch = `mtor/${id}-1`;
  expect(run.branch).toBe(branch);
  expect(run.head_sha).toMatch(/^[0-9a-f]{40}$/);
  expect(run.base_sha).toBe(mainBefore);
  expect(run.commits).toBeGreaterThanOrEqual(1);
  expect(run.diffstat?.insertions).toBeGreaterThan(0);
  expect(run.usage?.output_tokens).toBeGreaterThan(0);
  expect(run.usage?.turns).toBeGreaterThan(0);
  expect(run.duration_ms).toBeGreaterThan(0);
  // The branch is in origin at the reported head, holding the agent's real commit.
  expect(origin.branches()[branch]).toBe(run.head_sha);
  expect(gitIn(origin.path, "diff", "--name-only", `main...${branch}`)).toContain("src/clamp.ts");
  expect(gitIn(origin.path, "show", `${branch}:src/clamp.ts`)).toMatch(/function clamp/);
  // origin's main is exactly where it was.
  expect(origin.mainSha()).toBe(mainBefore);
  expect(Object.keys(origin.branches()).sort()).toEqual([branch, "main"].sort());
  return { id, run };
}

describe("executor end to end", () => {
  it("happy path with claude: the real CLI commits on the run branch, the branch lands in origin", { timeout: 180_000 }, async () => {
    await happyPath("happy", "demo-claude");
  });
});
