// End to end, real processes on loopback: the control plane in workerd, the demo provider, bare
// git repos as origin, and one executor running the real `mtor executor` CLI with the real
// claude and opencode CLIs. Tests share the stack and keep apart by repo and provider names.
import { join } from "node:path";
import { afterAll, beforeAll, describe, type ExpectStatic, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import {
  ExecutorProcess,
  gitIn,
  makeOrigin,
  type Origin,
  type Stack,
  startStack,
  waitFor,
  writeExecutorConfig,
} from "./stack";

let stack: Stack;
let demo: DemoProvider;
let overloaded: DemoProvider;
let executor: ExecutorProcess;
const origins: Record<string, Origin> = {};
const REPOS = ["happy", "happy-oc", "breaker", "flowing", "ratelimit"];

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
    capacity: 6,
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

async function happyPath(expect: ExpectStatic, repo: string, provider: string) {
  const origin = origins[repo];
  const mainBefore = origin.mainSha();
  const id = await stack.dispatch(
    spec(
      {
        title: `Add clamp via ${provider}`,
        repo,
        provider,
        // Each test changes its own file: the duplicate gate compares patch ids across specs.
        targets: `[src/${repo}.ts]`,
        tests: `[clamps ${repo} values above the range]`,
        stop: "Stop after this one test.",
        timeout: "3m",
      },
      `Add a \`clamp(value, low, high)\` function to src/${repo}.ts, with the one test named.`,
    ),
  );
  const done = await stack.waitForStatus(
    id,
    ["awaiting_review", "rejected", "failed", "dead", "canceled"],
    150_000,
  );
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
  expect(gitIn(origin.path, "diff", "--name-only", `main...${branch}`)).toContain(`src/${repo}.ts`);
  expect(gitIn(origin.path, "show", `${branch}:src/${repo}.ts`)).toMatch(/export function \w+\(value/);
  // origin's main is exactly where it was.
  expect(origin.mainSha()).toBe(mainBefore);
  expect(Object.keys(origin.branches()).sort()).toEqual([branch, "main"].sort());
  return { id, run };
}

// These share the executor and the control plane and run at once: each has its own repo and
// provider, so they cannot see each other's runs.
describe.concurrent("executor end to end", () => {
  it("happy path with claude: the real CLI commits on the run branch, the branch lands in origin", {
    timeout: 180_000,
  }, async ({ expect }) => {
    await happyPath(expect, "happy", "demo-claude");
  });

  it("happy path with opencode: the same with the real opencode CLI", { timeout: 180_000 }, async ({
    expect,
  }) => {
    await happyPath(expect, "happy-oc", "demo-opencode");
  });

  it("preflight failure: a provider answering 529 fails runs as preflight in seconds; after 3 the breaker is open and another provider keeps flowing", {
    timeout: 180_000,
  }, async ({ expect }) => {
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      ids.push(
        await stack.dispatch(
          spec(
            {
              title: `Overloaded ${i}`,
              repo: "breaker",
              provider: "demo-overloaded",
              attempts: "1",
              tests: "[t]",
              stop: "Stop.",
            },
            `Change number ${i}.`,
          ),
        ),
      );
    }
    for (const id of ids) {
      const done = await stack.waitForStatus(id, ["dead", "failed"], 90_000);
      const run = done.runs.at(-1);
      expect(run?.failure?.kind).toBe("preflight");
      expect(run?.duration_ms).toBeLessThan(30_000);
    }
    const providers = (
      await stack.api<{ providers: { name: string; breaker: { state: string } }[] }>("GET", "/v1/providers")
    ).body;
    const list = Array.isArray(providers) ? providers : providers.providers;
    expect(list.find((p) => p.name === "demo-overloaded")?.breaker.state).toBe("open");
    // Work for another provider is not held up by the open breaker.
    const flowing = await stack.dispatch(
      spec(
        {
          title: "Still flowing",
          repo: "flowing",
          provider: "demo-claude",
          targets: "[src/flowing.ts]",
          tests: "[clamps flowing values]",
          stop: "Stop.",
        },
        "Add a clamp function.",
      ),
    );
    expect(
      (await stack.waitForStatus(flowing, ["awaiting_review", "rejected", "failed", "dead"], 120_000)).status,
    ).toBe("awaiting_review");
  });
});

// Pins the control plane's clock, so it runs alone.
describe("executor end to end, with the clock moved", () => {
  it("rate limit: 429 with retry-after 120 cools the provider and queues the spec again", {
    timeout: 120_000,
  }, async ({ expect }) => {
    const id = await stack.dispatch(
      spec(
        { title: "Rate limited", repo: "ratelimit", provider: "demo-ratelimit", tests: "[t]", stop: "Stop." },
        "Change something.\n<!-- mtor-demo: rate_limit retry_after=120 -->",
      ),
    );
    let detail = await stack.spec(id);
    await waitFor(
      async () => {
        detail = await stack.spec(id);
        return detail.runs.some((r) => r.finished_at !== null);
      },
      90_000,
      () => `a finished run of ${id}: ${JSON.stringify(detail)}`,
    );
    const run = detail.runs[0];
    expect(run.failure?.kind).toBe("rate_limited");
    expect(run.failure?.retry_after_s).toBe(120);
    // Failed with attempts left: queued again once the retry backoff (about a minute) has passed.
    expect(detail.status).toBe("failed");
    expect(detail.next_attempt_at).toBeTruthy();
    const providers = (
      await stack.api<{ providers: { name: string; cooling_until: string | null }[] }>("GET", "/v1/providers")
    ).body;
    const list = Array.isArray(providers) ? providers : providers.providers;
    const cooling = list.find((p) => p.name === "demo-ratelimit")?.cooling_until;
    expect(cooling).toBeTruthy();
    const ahead = Date.parse(cooling as string) - Date.now();
    expect(ahead).toBeGreaterThan(60_000);
    expect(ahead).toBeLessThanOrEqual(125_000);
    try {
      await stack.pinClock(Date.parse(detail.next_attempt_at as string) + 1000);
      await stack.cp.tick();
      expect((await stack.spec(id)).status).toBe("queued");
      // Still cooling: nothing claims it even though it is queued.
      const after = await stack.spec(id);
      expect(after.runs).toHaveLength(1);
    } finally {
      await stack.pinClock(null);
    }
  });
});
