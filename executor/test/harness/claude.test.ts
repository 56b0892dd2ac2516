// The claude adapter, run as the real Claude Code CLI against the demo provider on loopback.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoProvider, startDemoProvider } from "../../src/demo/provider";
import { createClaudeHarness } from "../../src/harness/claude";
import { buildPreflightPrompt, buildPrompt } from "../../src/prompt";
import {
  demoProviderConfig,
  liveGroupMembers,
  makeClonedWorkspace,
  makeWorkspace,
  type Workspace,
  waitFor,
} from "./fixtures";

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
  const w = makeWorkspace({
    "README.md": "# demo repo\n",
    "src/dispatch.ts": "export function dispatch(): number {\n  return 1;\n}\n",
  });
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
    // The log a person reads: the answer's text, not claude's one-line JSON.
    expect(result.logTail).toMatch(/^harness result \(success, \d+ turns, [\d.]+s\):$/m);
    expect(result.logTail).not.toContain('"type":"result"');
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
      const before = provider.requests.length;
      const started = Date.now();
      const result = await harness.preflight(preflightInput(w, undefined, 60_000));
      const finished = Date.now();
      expect(finished - started).toBeLessThan(15_000);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.failure.kind).toBe("preflight");
      expect(result.failure.message).toMatch(/529 overloaded/);
      const seen = provider.requests.slice(before).filter((r) => r.path === "/v1/messages");
      expect(seen.map((r) => r.status)).toEqual([529]);
      expect(finished - seen[0].at).toBeLessThan(5_000);
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

  it('a provider with no key: claude\'s "Not logged in" becomes a failure naming the provider and token_env', async () => {
    const w = workspace();
    const base = input(w, "default");
    const result = await harness.run({ ...base, provider: { ...base.provider, token: "" } });
    expect(result.ok).toBe(false);
    expect(result.failure).toEqual({ kind: "auth", message: "provider demo: no API key (token_env unset)" });
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

  it("held for a preflight that then fails: stops without one request reaching the provider, leaving no process", async () => {
    const w = workspace();
    const before = provider.requests.length;
    let refuse!: (err: Error) => void;
    const hold = new Promise<void>((_, reject) => {
      refuse = reject;
    });
    const running = harness.run({ ...input(w, "default"), holdUntil: hold });
    refuse(new Error("the preflight did not pass"));
    const result = await running;
    expect(result.ok).toBe(false);
    expect(result.failure?.kind).toBe("canceled");
    expect(provider.requests.slice(before)).toEqual([]);
    expect(w.git("rev-list", "--count", "main..HEAD")).toBe("0");
    if (result.pgid) expect(liveGroupMembers(result.pgid)).toEqual([]);
  });

  it("stops as `canceled` when the run is aborted, leaving no process behind", async () => {
    const w = workspace();
    const controller = new AbortController();
    const before = provider.requests.length;
    const running = harness.run(input(w, "hang", 60_000, controller.signal));
    await waitFor(
      () => provider.requests.slice(before).some((r) => r.answer === "hang"),
      20_000,
      "the hanging request",
    );
    controller.abort();
    const result = await running;
    expect(result.failure?.kind).toBe("canceled");
    expect(liveGroupMembers(result.pgid as number)).toEqual([]);
  });
});

describe("claude harness with the misbehaving demo scripts", () => {
  it("push_main: the agent commits on its branch but cannot push, neither main nor its branch", async () => {
    const w = makeClonedWorkspace({
      "src/dispatch.ts": "export function dispatch(): number {\n  return 1;\n}\n",
    });
    workspaces.push(w);
    const originMain = execFileSync("git", ["--git-dir", w.origin, "rev-parse", "main"], {
      encoding: "utf8",
    }).trim();
    const result = await harness.run(input(w, "push_main"));
    expect(result.ok).toBe(true);
    expect(
      execFileSync("git", ["--git-dir", w.origin, "rev-parse", "main"], { encoding: "utf8" }).trim(),
    ).toBe(originMain);
    expect(
      execFileSync("git", ["--git-dir", w.origin, "for-each-ref", "--format=%(refname)"], {
        encoding: "utf8",
      }).trim(),
    ).toBe("refs/heads/main");
    // It did commit on local main too: that is what the protected_branch_touched gate is for.
    expect(w.git("log", "-1", "--format=%s", "main")).toBe("mtor demo: commit straight on main");
    expect(w.git("rev-parse", "--abbrev-ref", "HEAD")).toBe("mtor/abc123-1");
  });

  it("delete_function guts the target's first function and commits; extra_tests creates the target and adds more tests than named", async () => {
    const w = workspace();
    const gutted = await harness.run(input(w, "delete_function"));
    expect(gutted.ok).toBe(true);
    expect(readFileSync(join(w.repo, "src/dispatch.ts"), "utf8")).toBe(
      "export function dispatch() { return undefined; }\n",
    );
    expect(w.git("rev-list", "--count", "main..HEAD")).toBe("1");

    // Here the target does not exist yet: the demo model creates it.
    const x = makeWorkspace();
    workspaces.push(x);
    expect((await harness.run(input(x, "extra_tests"))).ok).toBe(true);
    expect(readFileSync(join(x.repo, "src/dispatch.ts"), "utf8")).toMatch(/^\/\*\* Clamps value/);
    const tests = readFileSync(join(x.repo, "test/dispatch.test.ts"), "utf8");
    expect(tests.match(/^test\(/gm)).toHaveLength(4);
  });

  it("no_commit edits the target but leaves it uncommitted", async () => {
    const w = workspace();
    const result = await harness.run(input(w, "no_commit"));
    expect(result.ok).toBe(true);
    expect(w.git("rev-list", "--count", "main..HEAD")).toBe("0");
    expect(w.git("status", "--porcelain")).toContain("src/dispatch.ts");
  });

  it("empty: the preflight fails with a message saying the answer was empty", async () => {
    const w = workspace();
    const result = await harness.preflight(preflightInput(w, "empty"));
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.failure).toMatchObject({
        kind: "preflight",
        message: expect.stringContaining("empty answer"),
      });
  });
});
