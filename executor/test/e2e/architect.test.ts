// End to end: the real `claude` CLI as the architect, connected to mtor's /mcp with
// --mcp-config and driven by the demo provider's `architect` script, dispatches a spec with
// dispatch_spec and looks at the queue with list_specs; an executor then runs that spec.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { resolvePackageBin } from "../../src/harness/bin";
import { claudeEnv, parseClaudeResult } from "../../src/harness/claude";
import {
  ExecutorProcess,
  makeOrigin,
  OPERATOR_TOKEN,
  type Origin,
  type Stack,
  startStack,
  writeExecutorConfig,
} from "./stack";

// The architect holds a dispatch token, not an admin one: it needs no more.
const ARCHITECT_TOKEN = "e2e-architect-token-0123456789";

let stack: Stack;
let demo: DemoProvider;
let origin: Origin;
let executor: ExecutorProcess;

beforeAll(async () => {
  stack = await startStack("architect", {
    OPERATOR_TOKENS: `e2e:${OPERATOR_TOKEN}:admin,architect:${ARCHITECT_TOKEN}:dispatch`,
  });
  demo = await startDemoProvider();
  origin = makeOrigin(stack.root, "arch");
  const workdir = join(stack.root, "executor");
  const config = writeExecutorConfig(stack.root, {
    id: "arch-a",
    controlPlane: stack.cp.url,
    workdir,
    capacity: 1,
    repos: { arch: origin.path },
    providers: { "demo-claude": { baseUrl: demo.url, harness: "claude" } },
  });
  executor = new ExecutorProcess(config, workdir);
  await executor.waitForLine(/executor arch-a →/);
});

afterAll(async () => {
  await executor?.kill("SIGKILL");
  await demo?.close();
  await stack?.close();
});

const SPEC = `---
title: Clamp helper from the architect
repo: arch
provider: demo-claude
targets: [src/math.ts]
tests: [clamps values from the architect]
stop: Stop after this one test.
timeout: 3m
---
Add a \`clamp(value, low, high)\` function to src/math.ts, with the one test named.
`;

/** Runs `claude --print` with mtor as its only MCP server; resolves with its exit and output. */
function runArchitect(prompt: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = join(stack.root, "architect-home");
  mkdirSync(home, { recursive: true });
  const mcpConfig = {
    mcpServers: {
      mtor: {
        type: "http",
        url: `${stack.cp.url}/mcp`,
        headers: { Authorization: `Bearer ${ARCHITECT_TOKEN}` },
      },
    },
  };
  const env = claudeEnv({
    home,
    model: "demo",
    provider: { name: "demo", baseUrl: demo.url, token: "demo-token", model: "demo", harness: "claude" },
  });
  const child = spawn(
    resolvePackageBin("@anthropic-ai/claude-code", "claude"),
    [
      "--bare",
      "--print",
      "--output-format",
      "json",
      "--model",
      "demo",
      "--mcp-config",
      JSON.stringify(mcpConfig),
      "--strict-mcp-config",
      "--allowedTools",
      "mcp__mtor__dispatch_spec mcp__mtor__list_specs",
      "--no-session-persistence",
    ],
    { cwd: home, env, stdio: ["pipe", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  child.stdin.end(prompt);
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

it("the claude CLI dispatches over MCP, lists the queue, and the spec runs through an executor", {
  timeout: 240_000,
}, async () => {
  const mainBefore = origin.mainSha();
  const out = await runArchitect(
    `<!-- mtor-demo: architect -->\nDispatch this spec to mtor, then check the queue.\n\n\`\`\`markdown\n${SPEC}\`\`\`\n`,
  );
  const result = parseClaudeResult(out.stdout);
  if (!result)
    throw new Error(`claude printed no JSON result (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  expect(result.is_error, result.result).toBe(false);

  // The model's requests show the two MCP tools called in order, each answered.
  const toolCalls = demo.requests.filter((r) => r.script === "architect").map((r) => r.answer);
  expect(toolCalls.slice(0, 2)).toEqual([
    "text+tool_use:mcp__mtor__dispatch_spec tool_use",
    "text+tool_use:mcp__mtor__list_specs tool_use",
  ]);
  // Its last turn quotes the id dispatch_spec answered and the list that holds it.
  const m = /dispatched ([a-z0-9]+); list_specs answered: (.*)$/s.exec(result.result ?? "");
  if (!m) throw new Error(`the architect's answer names no dispatched id: ${result.result}`);
  const id = m[1];
  expect(m[2]).toContain(`"id":"${id}"`);

  const spec = await stack.spec(id);
  expect(spec.title).toBe("Clamp helper from the architect");
  expect(spec.front_matter.tests).toEqual(["clamps values from the architect"]);

  // The executor takes it from there: a real commit on the run branch in origin.
  const done = await stack.waitForStatus(id, ["awaiting_review", "rejected", "failed", "dead"], 180_000);
  expect(done.status, JSON.stringify(done.runs.at(-1), null, 1)).toBe("awaiting_review");
  const run = done.runs.at(-1);
  expect(run?.branch).toBe(`mtor/${id}-1`);
  expect(origin.branches()[`mtor/${id}-1`]).toBe(run?.head_sha);
  expect(origin.mainSha()).toBe(mainBefore);
});
