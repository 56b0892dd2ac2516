// The claude adapter, run as the real Claude Code CLI against the demo provider on loopback.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { createClaudeHarness } from "../../src/harness/claude";
import { buildPreflightPrompt, buildPrompt } from "../../src/prompt";
import { type Workspace, demoProviderConfig, liveGroupMembers, makeWorkspace, waitFor } from "./fixtures";

const harness = createClaudeHarness();
let provider: DemoProvider;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  provider = await startDemoProvider();
});
afterAll(async () => {
  await provider.close();
  for (const w of workspaces) w.cleanup();
});

function workspace(): Workspace {
  const w = makeWorkspace({ "README.md": "# demo repo\n", "src/dispatch.ts": "export function dispatch(): number {\n  return 1;\n}\n" });
  workspaces.push(w);
  return w;
}

function prompt(script: string): string {
  return buildPrompt({
    body: `Add a clamp helper for dispatch backoff.\n\n<!-- mtor-demo: ${script} -->`,
    targets: ["src/dispatch.ts"],
    tests: ["test_throttle_backoff", "test_throttle_recovers"],
    stop: "Stop after these 2 tests. Do not add more.",
  });
}

function input(w: Workspace, script: string, timeoutMs = 60_000, signal?: AbortSignal) {
  return {
    cwd: w.repo,
    home: w.home,
    prompt: prompt(script),
    provider: demoProviderConfig(provider.url),
    model: "demo",
    timeoutMs,
    signal,
  };
}

function preflightInput(w: Workspace, script?: string, timeoutMs = 30_000) {
  const { prompt: _run, ...rest } = input(w, "default", timeoutMs);
  return script ? { ...rest, prompt: buildPreflightPrompt(`<!-- mtor-demo: ${script} -->`) } : rest;
}

describe("claude harness against the demo provider", () => {
  it("makes a real commit with the target function and exactly the named tests, and reports usage", async () => {
    const w = workspace();
    const output: string[] = [];
    const result = await harness.run({ ...input(w, "default"), onOutput: (c) => output.push(c) });
    expect(result.failure).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(w.git("rev-list", "--count", "main..HEAD")).toBe("1");
    expect(w.git("rev-parse", "--abbrev-ref", "HEAD")).toBe("mtor/abc123-1");
    expect(w.git("log", "-1", "--format=%an <%ae>")).toBe("mtor agent <agent@mtor.invalid>");
    const target = readFileSync(join(w.repo, "src/dispatch.ts"), "utf8");
    expect(target).toContain("export function dispatch(): number");
    expect(target).toContain("export function throttleBackoff(");
    const tests = readFileSync(join(w.repo, "test/dispatch.test.ts"), "utf8");
    expect([...tests.matchAll(/^test\("([^"]+)"/gm)].map((m) => m[1])).toEqual([
      "test_throttle_backoff",
      "test_throttle_recovers",
    ]);
    expect(result.usage).toBeDefined();
    expect(result.usage?.turns).toBe(4);
    expect(result.usage?.input_tokens).toBeGreaterThan(0);
    expect(result.usage?.output_tokens).toBeGreaterThan(0);
    expect(result.logTail).toContain("mtor demo model");
    expect(output.join("")).toContain('"type":"result"');
    expect(w.git("rev-parse", "main")).toBe(w.git("rev-parse", "HEAD~1"));
  });

  it("passes the preflight with the same binary and flags", async () => {
    const w = workspace();
    const before = provider.requests.length;
    const result = await harness.preflight(preflightInput(w));
    expect(result).toMatchObject({ ok: true });
    const seen = provider.requests.slice(before).filter((r) => r.path === "/v1/messages");
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.preflight && r.model === "demo")).toBe(true);
  });

  it("fails the preflight as `preflight` within seconds when the provider answers 529", async () => {
    const w = workspace();
    provider.setScript("error_529");
    try {
      const started = Date.now();
      const result = await harness.preflight(preflightInput(w, undefined, 60_000));
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.failure.kind).toBe("preflight");
      expect(result.failure.message).toMatch(/529 overloaded/);
    } finally {
      provider.setScript("default");
    }
  });

  it("reports a 429 as rate_limited with the provider's retry-after", async () => {
    const w = workspace();
    const result = await harness.run(input(w, "rate_limit"));
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ kind: "rate_limited", retry_after_s: 120 });
    const pre = await harness.preflight(preflightInput(w, "rate_limit"));
    expect(pre.ok).toBe(false);
    if (!pre.ok) expect(pre.failure).toMatchObject({ kind: "rate_limited", retry_after_s: 120 });
  });

  it("reports a 401 as auth", async () => {
    const w = workspace();
    const result = await harness.run(input(w, "auth_error"));
    expect(result.ok).toBe(false);
    expect(result.failure?.kind).toBe("auth");
    expect(w.git("rev-list", "--count", "main..HEAD")).toBe("0");
  });

  it("reports a 500 as provider", async () => {
    const w = workspace();
    const result = await harness.run(input(w, "error_500"));
    expect(result.failure?.kind).toBe("provider");
  });

  it("kills the whole process group when a hanging provider runs past the timeout", async () => {
    const w = workspace();
    const started = Date.now();
    const result = await harness.run(input(w, "hang", 3_000));
    expect(result.failure?.kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.pgid).toBeGreaterThan(0);
    expect(liveGroupMembers(result.pgid as number)).toEqual([]);
  });

  it("stops as `canceled` when the run is aborted, leaving no process behind", async () => {
    const w = workspace();
    const controller = new AbortController();
    const before = provider.requests.length;
    const running = harness.run(input(w, "hang", 60_000, controller.signal));
    await waitFor(() => provider.requests.slice(before).some((r) => r.answer === "hang"), 20_000, "the hanging request");
    controller.abort();
    const result = await running;
    expect(result.failure?.kind).toBe("canceled");
    expect(liveGroupMembers(result.pgid as number)).toEqual([]);
  });
});
