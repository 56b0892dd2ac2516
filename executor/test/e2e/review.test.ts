// The reviewer end to end: the real `mtor executor` with the real claude CLI as the worker,
// the demo provider playing both the worker and the reviewer, the control plane in workerd.
// A grade lands on the run; a grade below min_grade rejects it with flag review; a reviewer
// answering 529 leaves the run passed without a grade.
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import {
  ExecutorProcess,
  makeOrigin,
  type Origin,
  type Stack,
  startStack,
  writeExecutorConfig,
} from "./stack";

let stack: Stack;
let demo: DemoProvider;
let executor: ExecutorProcess;
const origins: Record<string, Origin> = {};
const REPOS = ["graded", "failing", "overloaded"];

beforeAll(async () => {
  stack = await startStack("review");
  demo = await startDemoProvider();
  for (const r of REPOS) origins[r] = makeOrigin(stack.root, r);
  const workdir = join(stack.root, "executor-r");
  const config = writeExecutorConfig(stack.root, {
    id: "review-a",
    controlPlane: stack.cp.url,
    workdir,
    capacity: 3,
    repos: Object.fromEntries(REPOS.map((r) => [r, origins[r].path])),
    providers: {
      "demo-worker": { baseUrl: demo.url, harness: "claude" },
      "demo-reviewer": { baseUrl: demo.url, harness: "claude" },
    },
    review: { provider: "demo-reviewer", minGrade: "C", timeoutS: 60 },
  });
  executor = new ExecutorProcess(config, workdir);
  await executor.waitForLine(/executor review-a →/);
});

afterAll(async () => {
  await executor?.kill("SIGKILL");
  await demo?.close();
  await stack?.close();
});

function spec(repo: string, review: string): string {
  return `---
title: Add clamp to ${repo}
repo: ${repo}
provider: demo-worker
targets: [src/${repo}.ts]
tests: [clamps ${repo} values above the range]
stop: Stop after this one test.
timeout: 3m
attempts: 1
---
Add a \`clamp(value, low, high)\` function to src/${repo}.ts, with the one test named.

<!-- mtor-review: ${review} -->
`;
}

const ENDS = ["awaiting_review", "rejected", "failed", "dead", "canceled"];

describe.concurrent("the reviewer through the real claude harness", () => {
  it("a grade at or above min_grade lands on the run, its usage apart from the worker's", {
    timeout: 180_000,
  }, async ({ expect }) => {
    const id = await stack.dispatch(spec("graded", "A-"));
    const done = await stack.waitForStatus(id, ENDS, 150_000);
    const run = done.runs.at(-1);
    expect(done.status, JSON.stringify(run, null, 1)).toBe("awaiting_review");
    expect(run?.review).toMatchObject({ provider: "demo-reviewer", grade: "A-" });
    expect(run?.review?.findings.length).toBeGreaterThan(0);
    expect(run?.usage?.review?.output_tokens).toBeGreaterThan(0);
    expect(run?.usage?.turns).toBeGreaterThan(0);
  });

  it("a grade below min_grade rejects the run with flag review and the findings", {
    timeout: 180_000,
  }, async ({ expect }) => {
    const id = await stack.dispatch(spec("failing", "D"));
    const done = await stack.waitForStatus(id, ENDS, 150_000);
    const run = done.runs.at(-1);
    expect(done.status, JSON.stringify(run, null, 1)).toBe("rejected");
    const flag = run?.flags.find((f) => f.gate === "review");
    expect(flag?.action).toBe("reject");
    expect(flag?.detail).toMatch(/^graded D, below C: .*\n- major src\/failing.ts:1: scripted finding/);
    expect(run?.review?.grade).toBe("D");
  });

  it("a reviewer answering 529 never blocks: the run passes without a grade and says why", {
    timeout: 180_000,
  }, async ({ expect }) => {
    const id = await stack.dispatch(spec("overloaded", "overloaded"));
    const done = await stack.waitForStatus(id, ENDS, 150_000);
    const run = done.runs.at(-1);
    expect(done.status, JSON.stringify(run, null, 1)).toBe("awaiting_review");
    expect(run?.review?.grade).toBeUndefined();
    expect(run?.review?.error).toMatch(/no grade: the reviewer demo-reviewer answered 529/);
  });
});
