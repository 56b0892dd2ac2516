// End to end, the night controls with a real executor: review backpressure stops claiming while
// the review pile is full, and an approve lets the waiting spec run; a run window holds work
// until the control plane's (pinned) clock reaches it.
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
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
let origin: Origin;
let executor: ExecutorProcess;

beforeAll(async () => {
  stack = await startStack("night");
  demo = await startDemoProvider();
  origin = makeOrigin(stack.root, "night");
  const workdir = join(stack.root, "executor");
  const config = writeExecutorConfig(stack.root, {
    id: "night-a",
    controlPlane: stack.cp.url,
    workdir,
    capacity: 2,
    repos: { night: origin.path },
    providers: { "demo-claude": { baseUrl: demo.url, harness: "claude" } },
  });
  executor = new ExecutorProcess(config, workdir);
  await executor.waitForLine(/executor night-a →/);
});

afterAll(async () => {
  await executor?.kill("SIGKILL");
  await demo?.close();
  await stack?.close();
});

const spec = (n: number) => `---
title: Night control ${n}
repo: night
provider: demo-claude
targets: [src/night${n}.ts]
tests: [clamps night ${n} values]
stop: Stop after this one test.
timeout: 3m
---
Add a \`clamp(value, low, high)\` function to src/night${n}.ts, with the one test named.
`;

it("backpressure: a full review pile stops claiming, an approve resumes it", {
  timeout: 240_000,
}, async () => {
  const put = await stack.api("PUT", "/v1/settings", { repos: { night: { max_awaiting_review: 1 } } });
  expect(put.status).toBe(200);

  const first = await stack.dispatch(spec(1));
  expect(
    (await stack.waitForStatus(first, ["awaiting_review", "rejected", "failed", "dead"], 150_000)).status,
  ).toBe("awaiting_review");

  // With one spec awaiting review the repo is full: the executor, with a free slot, is told why.
  const second = await stack.dispatch(spec(2));
  await executor.waitForLine(/no new runs: review_backlog/, 60_000);
  expect((await stack.spec(second)).status).toBe("queued");
  const status = await stack.api<string>("GET", "/v1/status?format=text");
  expect(status.body).toContain("repo night: 1 of 1 — HOLDING its claims (review_backlog)");

  const approved = await stack.api("POST", `/v1/specs/${first}/approve`, { grade: "A" });
  expect(approved.status).toBe(200);
  const done = await stack.waitForStatus(second, ["awaiting_review", "rejected", "failed", "dead"], 150_000);
  expect(done.status).toBe("awaiting_review");
  expect(origin.branches()[`mtor/${second}-1`]).toBe(done.runs.at(-1)?.head_sha);
  await executor.waitForLine(/claiming again \(was review_backlog\)/, 10_000);
});

it("a run window holds work until it opens", { timeout: 240_000 }, async () => {
  // Executors sign with real time and the control plane checks it against its clock, so the
  // pinned clock stays within minutes of now: the window opens two minutes from now.
  const now = Date.now() - (Date.now() % 60_000);
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const opens = now + 2 * 60_000;
  await stack.pinClock(now);
  const put = await stack.api("PUT", "/v1/settings", {
    repos: { night: { max_awaiting_review: null } },
    window: `${hhmm(opens)}-${hhmm(opens + 3 * 3600_000)}`,
    window_zone: "UTC",
  });
  expect(put.status).toBe(200);

  const id = await stack.dispatch(spec(3));
  await executor.waitForLine(/no new runs: outside_window/, 60_000);
  expect((await stack.spec(id)).status).toBe("queued");
  const report = await stack.api<string>("GET", "/v1/report?format=text");
  expect(report.body).toContain("1 spec queued waiting for a run window");

  await stack.pinClock(opens);
  const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 150_000);
  expect(done.status).toBe("awaiting_review");
  expect(Date.parse(done.runs.at(-1)?.claimed_at ?? "")).toBeGreaterThanOrEqual(opens);
});
