// End to end, the night controls with a real executor: review backpressure stops claiming while
// the review pile is full, and an approve lets the waiting spec run; a run window holds work
// until the control plane's (pinned) clock reaches it; a reached spend budget stops claiming
// and the "resume until morning" phone link from its webhook starts it again.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
  stack = await startStack("night", { ACTION_SECRET: "e2e-night-action-secret" });
  demo = await startDemoProvider();
  origin = makeOrigin(stack.root, "night");
  const workdir = join(stack.root, "executor");
  const config = writeExecutorConfig(stack.root, {
    id: "night-a",
    controlPlane: stack.cp.url,
    workdir,
    capacity: 2,
    repos: { night: origin.path },
    providers: {
      "demo-claude": { baseUrl: demo.url, harness: "claude" },
      // Its own provider, so the budget test counts only its own runs' spend.
      "demo-budget": { baseUrl: demo.url, harness: "claude" },
    },
  });
  executor = new ExecutorProcess(config, workdir);
  await executor.waitForLine(/executor night-a →/);
});

afterAll(async () => {
  await executor?.kill("SIGKILL");
  await demo?.close();
  await stack?.close();
});

const spec = (n: number, provider = "demo-claude") => `---
title: Night control ${n}
repo: night
provider: ${provider}
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

it("a reached budget stops claiming; the resume link from its webhook starts it again", {
  timeout: 300_000,
}, async () => {
  // Real time again, so the Fleet's alarm sends the webhook as soon as the event is written.
  await stack.pinClock(null);
  const received: { type: string; data: Record<string, unknown> }[] = [];
  let arrived: () => void = () => {};
  const delivered = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const hooks: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.end("ok");
      arrived();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/budget`;
    const hook = await stack.api("POST", "/v1/webhooks", { url, events: ["budget.reached"] });
    expect(hook.status).toBe(201);
    expect(
      (
        await stack.api("PUT", "/v1/settings", {
          window: null,
          max_awaiting_review: 0,
          repos: { night: { max_awaiting_review: null } },
        })
      ).status,
    ).toBe(200);
    // Whatever the first run costs (reported, or the fallback when the harness reports none), it
    // reaches a budget of a hundredth of a cent.
    const budget = await stack.api("PUT", "/v1/providers/demo-budget", { budget_usd: 0.0001 });
    expect(budget.status).toBe(200);

    const first = await stack.dispatch(spec(4, "demo-budget"));
    expect(
      (await stack.waitForStatus(first, ["awaiting_review", "rejected", "failed", "dead"], 150_000)).status,
    ).toBe("awaiting_review");
    const second = await stack.dispatch(spec(5, "demo-budget"));
    await executor.waitForLine(/no new runs: budget/, 60_000);
    expect((await stack.spec(second)).status).toBe("queued");
    const status = await stack.api<string>("GET", "/v1/status?format=text");
    expect(status.body).toMatch(
      /budget provider demo-budget \$\d+\.\d\d of \$0\.00 tonight — HOLDING new claims \(budget\)/,
    );

    await delivered;
    expect(received).toHaveLength(1);
    const event = received[0];
    expect(event.type).toBe("budget.reached");
    expect(event.data).toMatchObject({ provider: "demo-budget", budget_usd: 0.0001 });
    const links = event.data.actions as { raise: string; resume: string };
    expect(links.raise).toMatch(/\/actions\//);
    // The tap from the phone: the confirm page changes nothing, its button resumes claiming.
    const confirm = await fetch(links.resume);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain("Resume until morning?");
    expect((await stack.spec(second)).status).toBe("queued");
    const tapped = await fetch(links.resume, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(tapped.status).toBe(200);
    expect(await tapped.text()).toContain("Resumed until morning");

    const done = await stack.waitForStatus(
      second,
      ["awaiting_review", "rejected", "failed", "dead"],
      150_000,
    );
    expect(done.status).toBe("awaiting_review");
    expect(origin.branches()[`mtor/${second}-1`]).toBe(done.runs.at(-1)?.head_sha);
    await executor.waitForLine(/claiming again \(was budget\)/, 10_000);
    expect(received).toHaveLength(1);
  } finally {
    await new Promise((resolve) => hooks.close(resolve));
  }
});
